"""Chat channels (Telegram, ...): each judges access and publishes inbound messages on the bus."""
