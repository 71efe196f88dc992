"""`openclaw deploy kubernetes`: one StatefulSet per instance, rendered from this host's instances.

In a pod every instance has its own network namespace, so all of them use the same gateway port
and the host's port planning does not apply; state lives on a volume, tokens in a Secret.
"""
