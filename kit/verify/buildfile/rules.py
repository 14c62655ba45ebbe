"""The build-file rules: their slugs, severities and the words that explain them."""

from kit.verify.model import Rule

_CAT = "build file"

BUILD_FILE_MISSING = Rule(
    "build-file-missing",
    "error",
    _CAT,
    "The app has no dotcloud.yml at its root.",
    "The platform reads one dotcloud.yml at the root of the pushed folder to learn which "
    "services to build and run. Without it nothing is deployed. Create it (dotkit convert "
    "writes one from a nodeSocket app) or push from the folder that holds it.",
    "(no dotcloud.yml)",
    "dotcloud.yml:\nwww:\n  type: nodejs\n",
)
YAML_SYNTAX = Rule(
    "yaml-syntax",
    "error",
    _CAT,
    "dotcloud.yml is not valid YAML.",
    "A build file the platform cannot read stops the push before anything is built. The most "
    "common cause is indentation: every key of a service must start in the same column, and "
    "a key indented deeper than the one above it becomes part of that key's value.",
    "dotcloud.yml:\nwww:\n  type: nodejs\n    approot: web\n",
    "dotcloud.yml:\nwww:\n  type: nodejs\n  approot: web\n",
)
YAML_TAB = Rule(
    "yaml-tab",
    "error",
    _CAT,
    "A tab character is used for indentation.",
    "YAML forbids tabs in indentation, and the platform's reader rejects the whole file. "
    "Editors often insert them silently. Indent with spaces only.",
    "dotcloud.yml:\nwww:\n\ttype: nodejs\n",
    "dotcloud.yml:\nwww:\n  type: nodejs\n",
)
YAML_ALIASES = Rule(
    "yaml-aliases",
    "error",
    _CAT,
    "YAML aliases expand to an unreasonable size.",
    "Anchors and aliases (&a, *a) let one value be reused. Nested many times they expand "
    "exponentially (the 'billion laughs' file) and exhaust the memory of any reader. The kit "
    "refuses such a file at once rather than trying to expand it.",
    'dotcloud.yml:\na: &a ["x", "x", "x"]\nb: &b [*a, *a, *a]\n# ...nested ten times\n',
    "dotcloud.yml:\nwww:\n  type: nodejs\n",
)
DUPLICATE_KEY = Rule(
    "duplicate-key",
    "error",
    _CAT,
    "A key appears twice in the same mapping.",
    "YAML readers keep only the last of two equal keys, silently, so half of what you wrote "
    "is ignored. Keep one of them.",
    "dotcloud.yml:\nwww:\n  type: nodejs\n  type: python\n",
    "dotcloud.yml:\nwww:\n  type: nodejs\n",
)
SCHEMA = Rule(
    "build-file-schema",
    "error",
    _CAT,
    "A value has the wrong shape or type.",
    "The build file maps service names to mappings of known keys, each with a type: strings "
    "for commands and approot, mappings for config, ports, environment and processes, lists "
    "for systempackages, a number for instances. A wrong shape makes the push fail.",
    "dotcloud.yml:\nwww: nodejs\n",
    "dotcloud.yml:\nwww:\n  type: nodejs\n",
)
UNKNOWN_KEY = Rule(
    "unknown-key",
    "warning",
    _CAT,
    "A key the platform does not know.",
    "The platform silently ignores keys it does not know, so a misspelt key (aproot, "
    "enviroment) is simply lost. Check the spelling; the finding suggests the closest key.",
    "dotcloud.yml:\nwww:\n  type: nodejs\n  aproot: web\n",
    "dotcloud.yml:\nwww:\n  type: nodejs\n  approot: web\n",
)
UNKNOWN_TYPE = Rule(
    "unknown-service-type",
    "error",
    _CAT,
    "The service type is not one the platform offers.",
    "Each service needs a type the platform knows (nodejs, python, redis, mysql...). An "
    "unknown type stops the push.",
    "dotcloud.yml:\nwww:\n  type: node\n",
    "dotcloud.yml:\nwww:\n  type: nodejs\n",
)
SERVICE_NAME = Rule(
    "invalid-service-name",
    "error",
    _CAT,
    "A service name breaks the naming rule.",
    "Service names are 1 to 16 characters of lower-case letters, digits and underscores. "
    "They appear in host names and environment variable names (DOTCLOUD_WWW_...).",
    "dotcloud.yml:\nMy-Web:\n  type: nodejs\n",
    "dotcloud.yml:\nmy_web:\n  type: nodejs\n",
)
APPROOT_MISSING = Rule(
    "approot-missing",
    "error",
    _CAT,
    "The approot folder does not exist.",
    "approot names the folder, relative to dotcloud.yml, that holds the service's code; "
    "inside the container ~/current points at it. A missing folder leaves the service empty.",
    "dotcloud.yml:\nwww:\n  type: nodejs\n  approot: Web\n",
    "dotcloud.yml:\nwww:\n  type: nodejs\n  approot: web\n",
)
APPROOT_OUTSIDE = Rule(
    "approot-outside-app",
    "error",
    _CAT,
    "The approot points outside the app.",
    "Only the pushed folder is uploaded, so an approot that is absolute or climbs out with "
    "'..' names code the platform never receives.",
    "dotcloud.yml:\nwww:\n  type: nodejs\n  approot: ../shared\n",
    "dotcloud.yml:\nwww:\n  type: nodejs\n  approot: shared\n",
)
PROCESS_AND_PROCESSES = Rule(
    "process-and-processes",
    "error",
    _CAT,
    "Both process and processes are set.",
    "process (one command) and processes (a mapping of commands) are two ways of saying what "
    "supervisord runs; the platform accepts only one of them in a service.",
    "dotcloud.yml:\nwww:\n  type: nodejs\n  process: node a.js\n  processes:\n    b: node b.js\n",
    "dotcloud.yml:\nwww:\n  type: nodejs\n  processes:\n    a: node a.js\n    b: node b.js\n",
)
NODE_VERSION = Rule(
    "node-version-unsupported",
    "error",
    _CAT,
    "config: node_version is not one on offer.",
    "The nodejs service offers node v0.4.x, v0.6.x and v0.8.x, chosen with config: "
    "node_version. Any other value makes the deploy fail.",
    "dotcloud.yml:\nwww:\n  type: nodejs\n  config:\n    node_version: v0.10.x\n",
    "dotcloud.yml:\nwww:\n  type: nodejs\n  config:\n    node_version: v0.8.x\n",
)
ENV_NAME = Rule(
    "env-name-invalid",
    "error",
    _CAT,
    "An environment variable name is not allowed.",
    "Variable names are letters, digits and underscores, not starting with a digit, and "
    "names starting with DOTCLOUD_ belong to the platform.",
    'dotcloud.yml:\nwww:\n  type: nodejs\n  environment:\n    mongo-host: "db"\n',
    'dotcloud.yml:\nwww:\n  type: nodejs\n  environment:\n    MONGO_HOST: "db"\n',
)

RULES: tuple[Rule, ...] = (
    BUILD_FILE_MISSING,
    YAML_SYNTAX,
    YAML_TAB,
    YAML_ALIASES,
    DUPLICATE_KEY,
    SCHEMA,
    UNKNOWN_KEY,
    UNKNOWN_TYPE,
    SERVICE_NAME,
    APPROOT_MISSING,
    APPROOT_OUTSIDE,
    PROCESS_AND_PROCESSES,
    NODE_VERSION,
    ENV_NAME,
)
