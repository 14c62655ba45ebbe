"""The supervisor rules: their slugs, severities and the words that explain them."""

from kit.verify.model import Rule

MAX_BYTES = 1 << 20  # a real supervisord.conf is a few hundred bytes
CATEGORY = "supervisor"
BOILERPLATE = "[program:node]\ncommand = node {script}\ndirectory = /home/dotcloud/current\n"

MISSING = Rule(
    "supervisord-missing",
    "error",
    CATEGORY,
    "A nodejs service has no supervisord.conf and no process in dotcloud.yml.",
    "On dotCloud, supervisord starts the processes of a code service. A nodejs service says what "
    "to start either with a supervisord.conf in its approot or with `process:`/`processes:` in "
    "dotcloud.yml. With neither, the push builds and deploys the code but nothing ever runs it, so "
    "every request fails. The three-line file below is all most apps need.",
    bad="Gear1/server.js:\nrequire('http').createServer(app).listen(8080);",
    good="Gear1/supervisord.conf:\n" + BOILERPLATE.format(script="server.js"),
)
SYNTAX = Rule(
    "supervisord-syntax",
    "error",
    CATEGORY,
    "supervisord.conf cannot be read by supervisord.",
    "supervisord reads the approot's supervisord.conf when the service starts. If the file is not "
    "valid INI text, or a program setting has a value of the wrong kind (a word where a number "
    "belongs, an unknown signal name), supervisord refuses the whole file and the service never "
    "starts. The kit reads the file with supervisor's own parser and reports what it rejects.",
    bad="Gear1/supervisord.conf:\n[program:node]\ncommand = node server.js\nstartsecs = soon\n",
    good="Gear1/supervisord.conf:\n[program:node]\ncommand = node server.js\nstartsecs = 5\n",
)
MISSING_PROGRAM = Rule(
    "supervisord-missing-program",
    "error",
    CATEGORY,
    "supervisord.conf defines no [program:...] section.",
    "Only `[program:<name>]` sections make supervisord start something. A file with other sections "
    "only, or an empty one, is accepted and then starts nothing, so the service never answers. "
    "The name after `program:` is free; `node` is the usual choice.",
    bad="Gear1/supervisord.conf:\n[supervisord]\nloglevel = info\n",
    good="Gear1/supervisord.conf:\n" + BOILERPLATE.format(script="server.js"),
)
DIRECTORY = Rule(
    "supervisord-directory",
    "warning",
    CATEGORY,
    "A program does not run in /home/dotcloud/current.",
    "The platform maps the service's approot to /home/dotcloud/current. A program without "
    "`directory = /home/dotcloud/current` starts in supervisord's own working folder, so a "
    "relative path in its command (`node server.js`) or in the code (`require('./lib')` is fine, "
    "but `fs.readFile('data.json')` is not) points somewhere else and the program fails.",
    bad="Gear1/supervisord.conf:\n[program:node]\ncommand = node server.js\n",
    good="Gear1/supervisord.conf:\n" + BOILERPLATE.format(script="server.js"),
)
COMMAND_FILE = Rule(
    "supervisord-command-missing-file",
    "error",
    CATEGORY,
    "The command runs a script that is not in the approot.",
    "The command is run in /home/dotcloud/current, which is the service's approot. If the script "
    "it names (the file after `node`, or a `./program` itself) is not in the approot, or is left "
    "out of the upload by .gitignore, the program exits at once and supervisord gives up on it "
    "after a few retries. Check the spelling and that the path is relative to the approot.",
    bad="Gear1/supervisord.conf:\n[program:node]\ncommand = node app.js\n"
    "directory = /home/dotcloud/current\n",
    good="Gear1/supervisord.conf:\n" + BOILERPLATE.format(script="server.js"),
)
PERCENT = Rule(
    "supervisord-percent",
    "error",
    CATEGORY,
    "A value holds a % that supervisord would try to expand.",
    "supervisord expands `%(name)s` in every value (`%(program_name)s`, `%(process_num)s`, "
    "`%(here)s`, `%(ENV_HOME)s` and a few more). Any other `%`, such as a percent sign in an "
    "argument or a URL-encoded character, makes it refuse the file and the service never starts. "
    "Write `%%` for a literal percent sign.",
    bad="Gear1/supervisord.conf:\n[program:node]\ncommand = node server.js --quota 80%\n"
    "directory = /home/dotcloud/current\n",
    good="Gear1/supervisord.conf:\n[program:node]\ncommand = node server.js --quota 80%%\n"
    "directory = /home/dotcloud/current\n",
)
RULES: tuple[Rule, ...] = (MISSING, SYNTAX, MISSING_PROGRAM, DIRECTORY, COMMAND_FILE, PERCENT)
