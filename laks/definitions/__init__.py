"""Module definitions as data: the questions of each action-learning module.

Definitions are written in ``seed_data/modules/*.yaml``, loaded into the database by the
seed (so a network admin can change a label or add a question without code), and parsed
into frozen dataclasses (:mod:`.schema`) that are checked when loaded: a duplicate key or an
unknown kind fails loudly. :mod:`.forms` turns a definition into a WTForms form.
"""

from laks.definitions.schema import (
    Column,
    DefinitionError,
    I18nText,
    ModuleSpec,
    Option,
    Question,
    Section,
    parse_module,
)

__all__ = [
    "Column",
    "DefinitionError",
    "I18nText",
    "ModuleSpec",
    "Option",
    "Question",
    "Section",
    "parse_module",
]
