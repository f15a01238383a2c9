"""Checking decoded JSON before it reaches the engines and the store."""


def encodable(value: object) -> bool:
    """False when any string inside is not valid Unicode (a lone surrogate from `\\ud800`),
    which the store could not encode."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, dict):
        return all(encodable(key) and encodable(item) for key, item in value.items())
    if isinstance(value, list):
        return all(encodable(item) for item in value)
    return True
