"""Model providers: which model a ref names, where its key comes from, and two wire clients
(OpenAI Chat Completions, Anthropic Messages) over the gateway's own aiohttp, with retries
and fallbacks. Nothing here loads until a turn runs."""
