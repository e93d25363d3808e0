"""``.. cli-command:: NAME``: the usage line, description and every option of one ``ccle`` command, read from
the argparse parser the program itself builds (:func:`ccle.cli.build_parser`), so the page cannot drift from
``ccle NAME --help``. ``.. cli-command::`` with no argument documents the top-level parser (its commands)."""
import argparse

from docutils import nodes
from docutils.parsers.rst import Directive

from ccle.cli import build_parser

PROG = "ccle"


def _subparsers(parser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    return None


def command_parser(name):
    """The parser of command ``name`` (None: the top-level parser)."""
    parser = build_parser(PROG)
    _narrow(parser)
    if not name:
        return parser
    sub = _subparsers(parser)
    if name not in sub.choices:
        raise KeyError(f"no command {name!r}; known: {', '.join(sub.choices)}")
    return sub.choices[name]


def _narrow(parser, width=72):
    """Wrap usage lines at ``width`` columns (the page's text column), for the parser and every command."""
    parser.formatter_class = lambda prog: argparse.HelpFormatter(prog, width=width)
    sub = _subparsers(parser)
    for child in (sub.choices.values() if sub else ()):
        _narrow(child, width)


def _help_text(parser, action):
    formatter = parser._get_formatter()
    return formatter._expand_help(action) if action.help else ""


def _invocation(action):
    if not action.option_strings:
        return action.metavar or action.dest
    if action.nargs == 0:
        return ", ".join(action.option_strings)
    metavar = action.metavar or (("{" + ",".join(map(str, action.choices)) + "}") if action.choices
                                 else action.dest.upper())
    return ", ".join(f"{opt} {metavar}" for opt in action.option_strings)


def _definition(term_text, body_text):
    item = nodes.definition_list_item()
    term = nodes.term()
    term += nodes.literal(term_text, term_text)
    item += term
    definition = nodes.definition()
    definition += nodes.paragraph(body_text, body_text)
    item += definition
    return item


class CliCommand(Directive):
    """Usage (literal block), description and a definition list of the arguments of one command."""
    optional_arguments = 1
    has_content = False

    def run(self):
        name = self.arguments[0] if self.arguments else None
        try:
            parser = command_parser(name)
        except KeyError as exc:
            raise self.error(str(exc))
        out = []
        usage = parser.format_usage().strip()
        out.append(nodes.literal_block(usage, usage, language="none"))
        if parser.description:
            out.append(nodes.paragraph(parser.description, parser.description))
        sub = _subparsers(parser)
        listing = nodes.definition_list(classes=["cli-options"])
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            if action is sub:
                for choice in action._choices_actions:
                    listing += _definition(choice.dest, choice.help or "")
                continue
            text = _help_text(parser, action)
            if action.required and action.option_strings:
                text = f"(required) {text}"
            listing += _definition(_invocation(action), text)
        out.append(listing)
        return out


def setup(app):
    app.add_directive("cli-command", CliCommand)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
