"""Files the code writes, where the folder matters on the platform.

Two folders matter. ``~/data`` is the one folder kept across pushes (moved from
the old container to the new, which costs downtime, and one per instance).
The code's own folder (a relative path, ``__dirname``, ``~/current``) is replaced
by every push: a file written there, an upload most often, is gone after the
next one. Writes are ``fs`` (and fs-extra, mkdirp) calls, upload middleware
options (multer's ``dest`` and ``diskStorage`` ``destination``, ``uploadDir`` of
Express 3's ``bodyParser``/``multipart``, formidable and connect-multiparty).
"""

from kit.js.model import DataWrite, WriteWhere
from kit.js.pathexpr import PathReader
from kit.js.syntax import (
    FUNCTION_TYPES,
    Hit,
    Node,
    Positions,
    call_args,
    call_of,
    callee_text,
    capped,
    node_text,
    property_value,
    spelled,
    string_value,
    unwrap,
)

# Write functions (fs, fs.promises, fs-extra, mkdirp) and which arguments are written.
_WRITE_ARGS: dict[str, tuple[int, ...]] = {
    "writeFile": (0,),
    "writeFileSync": (0,),
    "appendFile": (0,),
    "appendFileSync": (0,),
    "createWriteStream": (0,),
    "mkdir": (0,),
    "mkdirSync": (0,),
    "mkdirp": (0,),
    "rename": (0, 1),
    "renameSync": (0, 1),
    "copyFile": (1,),
    "copyFileSync": (1,),
    "outputFile": (0,),
    "outputFileSync": (0,),
    "writeJson": (0,),
    "writeJsonSync": (0,),
}
# Option keys naming an upload folder; "dest" and "destination" only for multer.
UPLOAD_KEYS = frozenset({"dest", "destination", "uploadDir"})
_MULTER_KEYS = frozenset({"dest", "destination"})
# A destination function's body is searched this far for its `cb(null, folder)`.
_MAX_BODY_NODES = 400


def _place(reader: PathReader, node: Node | None) -> tuple[str, WriteWhere] | None:
    where = reader.data_path(node)
    if where is not None:
        return where, "data"
    where = reader.code_path(node)
    return (where, "code") if where is not None else None


def file_write(reader: PathReader, positions: Positions, hit: Hit) -> DataWrite | None:
    """An ``fs`` write at ``hit`` into ~/data or into the code."""
    source = reader.source
    written = _WRITE_ARGS.get(node_text(source, hit.node))
    call = call_of(hit) if written is not None else None
    if call is None or written is None:
        return None
    args = call_args(call)
    for index in written:
        place = _place(reader, args[index]) if index < len(args) else None
        if place is not None:
            line, column = positions.of(hit.node)
            return DataWrite(line, column, callee_text(source, call), capped(place[0]), place[1])
    return None


def _callback_folder(source: bytes, function: Node) -> Node | None:
    """The folder a ``destination: function (req, file, cb) {...}`` hands to ``cb``."""
    stack, seen = [function], 0
    while stack and seen < _MAX_BODY_NODES:
        node = stack.pop()
        seen += 1
        if node.type == "call_expression":
            args = call_args(node)
            if len(args) == 2 and spelled(source, args[0], "null"):
                return args[1]
        stack.extend(reversed(node.named_children))
    return None


def _is_multer(reader: PathReader, call: Node) -> bool:
    callee = unwrap(call.child_by_field_name("function"))
    if callee is None:
        return False
    if callee.type == "member_expression":
        prop = callee.child_by_field_name("property")
        return spelled(reader.source, prop, "diskStorage")
    return reader.scope.module_name(callee) == "multer"


def upload_folder(reader: PathReader, positions: Positions, hit: Hit) -> DataWrite | None:
    """``multer({dest: 'uploads/'})``, ``diskStorage({destination: ...})``,
    ``bodyParser({uploadDir: ...})``, ``form.uploadDir = ...``."""
    source = reader.source
    node, up = hit
    key = node_text(source, node)
    if key not in UPLOAD_KEYS or not up:
        return None
    if up[0].type == "member_expression" and len(up) > 1:  # `form.uploadDir = dir`
        assignment = up[1]
        if key != "uploadDir" or assignment.type != "assignment_expression":
            return None
        if assignment.child_by_field_name("left") != up[0]:
            return None
        value = assignment.child_by_field_name("right")
        function = node_text(source, up[0]) if up[0].end_byte - up[0].start_byte < 80 else key
    elif up[0].type == "pair" and len(up) > 3 and up[1].type == "object":
        if up[2].type != "arguments" or up[3].type not in {"call_expression", "new_expression"}:
            return None
        call = up[3]
        if key in _MULTER_KEYS and (call.type != "call_expression" or not _is_multer(reader, call)):
            return None
        value = property_value(source, up[1], key)
        function = f"{callee_text(source, call)}({{{key}}})"
    else:
        return None
    value = unwrap(value)
    if value is not None and value.type in FUNCTION_TYPES:
        value = _callback_folder(source, value)
    if value is not None and value.type == "string" and not string_value(source, value):
        return None
    place = _place(reader, value)
    if place is None:
        return None
    line, column = positions.of(node)
    return DataWrite(line, column, capped(function, 80), capped(place[0]), place[1], upload=True)
