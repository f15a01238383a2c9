"""What each worker knows live about the tenants it serves, kept current by events.

A worker watches a tenant while someone there needs it: an open subscription, or a
recent request whose answer it may reuse. Watching costs one bus subscription per
tenant per worker, however many clients are behind it.
"""
