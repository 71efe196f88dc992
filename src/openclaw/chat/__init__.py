"""Messages between the channels and the agent: parsing, the chat commands every surface answers, the dispatcher."""
