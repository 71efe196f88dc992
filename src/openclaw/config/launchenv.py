"""Environment keys a configured server process may not be given (`mcp.servers.<name>.env`).

Each of these makes an interpreter, the dynamic loader or a shell run code or load libraries that the
command line does not name, so a config entry that sets one could turn any server command into
something else. Upstream refuses the same family of keys for its stdio servers.
"""

from __future__ import annotations

BLOCKED_PREFIXES = ("LD_", "DYLD_", "BASH_FUNC_")
BLOCKED_KEYS = frozenset({
    # the dynamic loader and the C library
    "GCONV_PATH", "GLIBC_TUNABLES", "HOSTALIASES",
    # Node, Python, Perl, Ruby, Lua, Tcl, R, PHP, Erlang/Elixir
    "NODE_OPTIONS", "NODE_PATH", "NODE_REPL_EXTERNAL_MODULE",
    "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONBREAKPOINT", "PYTHONUSERBASE",
    "PERL5LIB", "PERL5OPT", "PERL5DB", "PERL5DBCMD", "RUBYLIB", "RUBYOPT",
    "LUA_INIT", "LUA_INIT_5_1", "LUA_INIT_5_2", "LUA_INIT_5_3", "LUA_INIT_5_4", "LUA_PATH", "LUA_CPATH",
    "TCLLIBPATH", "R_PROFILE", "R_PROFILE_USER", "R_ENVIRON", "R_ENVIRON_USER", "PHPRC", "PHP_INI_SCAN_DIR",
    "ERL_AFLAGS", "ERL_FLAGS", "ERL_ZFLAGS", "ELIXIR_ERL_OPTIONS",
    # the JVM and .NET
    "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS", "JAVA_OPTS", "CLASSPATH",
    "DOTNET_STARTUP_HOOKS", "DOTNET_ADDITIONAL_DEPS", "CORECLR_PROFILER", "CORECLR_PROFILER_PATH",
    # shells and editors that read start-up code from the environment
    "BASH_ENV", "ENV", "KSH_ENV", "ZDOTDIR", "SHELLOPTS", "BASHOPTS", "PS4", "PROMPT_COMMAND", "IFS",
    "EMACSLOADPATH", "VIMINIT", "EXINIT", "MYVIMRC", "GVIMINIT",
    # TLS libraries that load engines or write keys
    "OPENSSL_CONF", "OPENSSL_ENGINES", "SSLKEYLOGFILE",
})


def blocked(key: str) -> bool:
    """True for a key that would make the launched program run code it was not given."""
    upper = key.upper()
    return upper in BLOCKED_KEYS or upper.startswith(BLOCKED_PREFIXES)
