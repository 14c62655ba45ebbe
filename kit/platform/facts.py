"""Plain facts about the platform, each defined once.

Where a value comes from the platform's documentation or the 0.9.8 CLI, the
reference notes (``reference/dotcloud-platform.md`` of the project) give the source.
"""

from typing import Final

# -- files ------------------------------------------------------------------------------
BUILD_FILE: Final = "dotcloud.yml"
SUPERVISORD_FILE: Final = "supervisord.conf"  # in an approot, included by the platform's own
TORQUE_FILE: Final = ".torque"  # nodeSocket's per-Gear file
CONFIG_DIR: Final = ".dotcloud"  # a connected folder's CLI settings
IGNORE_FILE: Final = ".dotcloudignore"  # what the CLI's rsync upload leaves out

# -- inside a container -----------------------------------------------------------------
HOME: Final = "/home/dotcloud"
CURRENT: Final = f"{HOME}/current"  # the approot of the running revision
CODE: Final = f"{HOME}/code"
DATA: Final = f"{HOME}/data"  # the one folder kept across pushes
ENVIRONMENT_JSON: Final = f"{HOME}/environment.json"
ENVIRONMENT_YML: Final = f"{HOME}/environment.yml"
USER: Final = "dotcloud"
# supervisord's socket and log folder (afoong/node-on-dotcloud; DOCS09 daemons.rst)
SUPERVISOR_SOCKET: Final = "/var/dotcloud/supervisor.sock"
SUPERVISOR_LOG_DIR: Final = "/var/log/supervisor"

# -- ports ------------------------------------------------------------------------------
HTTP_PORT: Final = 8080  # where the router sends a service's web traffic
PORT_KINDS: Final = ("http", "tcp", "udp")
FIRST_CUSTOM_PORT: Final = 42800  # where declared ports' local numbers start (SANDBOX)

# -- service types ----------------------------------------------------------------------
CODE_TYPES: Final = frozenset(
    {
        "custom",
        "java",
        "nodejs",
        "perl",
        "perl-worker",
        "php",
        "php-worker",
        "python",
        "python-worker",
        "ruby",
        "ruby-worker",
        "static",
        "opa",
    }
)
DATA_TYPES: Final = frozenset(
    {
        "mongodb",
        "mysql",
        "mysql-masterslave",
        "postgis",
        "postgresql",
        "redis",
        "smtp",
        "solr",
        "rabbitmq",
    }
)
SERVICE_TYPES: Final = CODE_TYPES | DATA_TYPES
# Types whose build takes `config: node_version` (custom passed it to the build script).
NODE_VERSION_TYPES: Final = frozenset({"nodejs", "custom"})

# -- Node.js ----------------------------------------------------------------------------
NODE_VERSIONS: Final = ("v0.4.x", "v0.6.x", "v0.8.x")
PLATFORM_DEFAULT_NODE_VERSION: Final = "v0.4.x"  # what the platform ran with no config
CONVERT_NODE_VERSION: Final = "v0.8.x"  # what convert writes unless told otherwise
# The release each branch ran on the platform (its docs, 2012-2013).
PLATFORM_NODE_RELEASES: Final = {"v0.4.x": "0.4.12", "v0.6.x": "0.6.20", "v0.8.x": "0.8.3"}

# -- limits -----------------------------------------------------------------------------
BUILD_TIMEOUT_S: Final = 15 * 60.0
POSTINSTALL_TIMEOUT_S: Final = 10 * 60.0
SERVICE_NAME_MAX: Final = 16
# The platform reserved memory per service in steps of 32 MB, from 32 MB to 64 GB
# (guides/scaling.rst; the 0.9.8 CLI rounds to the step).
MEMORY_STEP_MB: Final = 32
# No source gives the platform's own cap on instances; the sandbox, one machine,
# refuses more than this many instances of one service.
MAX_INSTANCES: Final = 20

# -- ports inside a container -------------------------------------------------------------
# A declared tcp/udp port binds at PORT_<NAME>, numbered from FIRST_CUSTOM_PORT (the
# platform's builder counted custom ports up from 42800; clients connect to another,
# public, port).
SSH_PORT: Final = 22  # PORT_SSH, an integer in environment.json as on the platform

# -- the CLI ----------------------------------------------------------------------------
CLI_VERSION: Final = "0.9.8"
ENVIRONMENT_NAME: Final = "default"  # DOTCLOUD_ENVIRONMENT

# -- the upload -------------------------------------------------------------------------
# The ignore files verify's view of an app honours (what is in the repository).
UPLOAD_IGNORE_FILES: Final = (".gitignore", IGNORE_FILE)
# What the 0.9.8 CLI's rsync upload left out: these names at any depth, then the
# patterns of the root's .dotcloudignore. It never read .gitignore, and it sent
# node_modules like any other folder (`push_with_rsync`).
RSYNC_EXCLUDES: Final = ("*.pyc", ".git", ".hg")
RSYNC_EXCLUDE_FROM: Final = IGNORE_FILE
