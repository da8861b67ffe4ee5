"""One module per MTA or provider format; see bounceback.parse.registry."""
