"""How fast every MTA is told to give up, so expiry DSNs come in seconds, not days."""

QUEUE_LIFETIME = 75  # seconds a deferred message stays queued before the final DSN
DELAY_WARNING = 20  # seconds before a "still trying" notice (where the MTA has one)
RETRY = 8  # seconds between attempts
TIMEOUT = 5  # connect / greeting timeout for the silent host
