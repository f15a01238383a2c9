#pragma once

// The root certificate of the CA that signed the server's certificate, in PEM, for
// https:// server URLs. Replace it with your server's root before building; with an
// http:// URL (a trial on a local network) it is not used.
constexpr const char* kRootCa = R"(-----BEGIN CERTIFICATE-----
REPLACE WITH YOUR SERVER'S ROOT CERTIFICATE
-----END CERTIFICATE-----
)";
