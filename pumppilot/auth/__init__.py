"""Password hashing and signed access tokens. Who may do what lives in the engines."""
