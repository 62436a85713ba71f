"""The API's operations: reading (``read``) and writing (``write``)."""
