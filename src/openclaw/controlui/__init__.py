"""The Control UI: a browser page served on the gateway's own port.

The page is static (plain ES modules, one small vendored UI library) and is a
protocol-v4 client of the gateway that serves it; this package only knows how
to hand its files out safely. Nothing here is imported until a page is asked for.
"""
