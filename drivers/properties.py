"""Declarative driver properties: a command, a reply parser and a validator, handled in one place.

In the manner of PyMeasure's `Instrument.setting` / `measurement` / `control`, a driver declares each
setting and reading as a class attribute:

    class Pump:
        diameter_mm = Setting("DIA {}", "Set the syringe inner diameter [mm].",
                              validator=in_range(lambda pump: (0.1, 50.0), "diameter_mm", "mm"))
        dispensed_ul = Measurement("DIS", parse_dis, "Measure the dispensed volumes [uL].")

Assigning a `Setting` validates the value against limits read from the driver instance (its configured
syringe, travel, source limits) and raises `InterlockError` before any byte is sent. Reading a
`Measurement` sends its query and parses the reply; any parser failure, whether a `CorruptReply` or a
stray `ValueError`/`ZeroDivisionError`/`IndexError`, comes out as a counted `CorruptReply`. The driver
provides `write(command)` (send a setting, wait for its acknowledgement if the protocol has one),
`ask(command) -> str` and `transport`.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Callable, Generic, Protocol, TypeVar

from drivers.errors import CorruptReply, DriverError, InterlockError
from drivers.replies import excerpt
from drivers.transport import Transport

T = TypeVar("T")
#: Checks a value for a driver instance and returns what to send; raises `InterlockError` to refuse it.
Validator = Callable[[Any, T], T]
#: Errors a parser may raise on a garbled reply besides `DriverError` (turned into `CorruptReply`).
_PARSE_ERRORS = (ValueError, TypeError, ArithmeticError, LookupError)


class Queryable(Protocol):
    """What a `Measurement` needs from the driver it is declared on."""

    transport: Transport

    def ask(self, command: str) -> str:
        """Send a query and return the reply text."""
        ...


class Driver(Queryable, Protocol):
    """What a `Setting` needs from the driver it is declared on."""

    def write(self, command: str) -> None:
        """Send a setting command (and wait for its acknowledgement, if the protocol has one)."""
        ...


def parse_reply(driver: Queryable, parse: Callable[[str], T], reply: str, what: str) -> T:
    """Return `parse(reply)`; any failure becomes a `CorruptReply` counted on the driver's transport."""
    try:
        return parse(reply)
    except DriverError as exc:
        raise driver.transport.detected(exc) from None
    except _PARSE_ERRORS as exc:
        raise driver.transport.detected(CorruptReply(f"{what}: unparsable reply {excerpt(reply)} ({exc})")) from None


def in_range(limits: Callable[[Any], tuple[float, float]], name: str, unit: str, *, low_open: bool = False,
             why: str = "") -> Validator[float]:
    """Return a validator refusing a number outside `limits(driver)` (and NaN), like PyMeasure's `strict_range`.

    Args:
        limits: Reads (low, high) from the driver instance, so configured limits apply.
        name: The value's name in the error message (with its unit suffix, e.g. `rate_ul_min`).
        unit: Unit printed after the range.
        low_open: Exclude `low` itself (e.g. a compliance that must be > 0).
        why: Appended to the message to say where the limits come from.
    """

    def validate(driver: Any, value: float) -> float:
        low, high = limits(driver)
        above_low = low < value if low_open else low <= value
        if not (isinstance(value, numbers.Real) and math.isfinite(value) and above_low and value <= high):
            bracket = "(" if low_open else "["
            label = getattr(driver, "label", type(driver).__name__)
            raise InterlockError(f"{label}: {name}={value} outside {bracket}{_short(low)}, {_short(high)}] {unit}"
                                 + (f" ({why})" if why else ""))
        return value

    return validate


def _short(limit: float) -> str:
    """Print a limit as written (`1000.0`) unless that is long (`0.01220...` -> `0.0122`)."""
    text = str(limit)
    return text if len(text) <= 8 else f"{limit:.4g}"


def one_of(*choices: T) -> Validator[T]:
    """Return a validator refusing anything but `choices` (PyMeasure's `strict_discrete_set`)."""

    def validate(driver: Any, value: T) -> T:
        if value not in choices:
            label = getattr(driver, "label", type(driver).__name__)
            raise InterlockError(f"{label}: {value!r} is not one of {list(choices)}")
        return value

    return validate


def on_off(value: bool) -> str:
    """Encode a boolean as SCPI `ON` / `OFF`."""
    return "ON" if value else "OFF"


class Setting(Generic[T]):
    """A value written to the instrument: validated, encoded into `command`, sent; reads give the last value sent.

    Args:
        command: Format string with one `{}` for the encoded value (e.g. `":SOUR:CURR {}"`).
        doc: One line starting with Set/Control (the property's docstring).
        validator: Refuses a value before anything is sent (see `in_range`, `one_of`).
        encode: Turns the checked value into the command's argument text.
        sent: Turns the argument text back into the value the instrument was given (after rounding);
            by default the value itself is remembered.
    """

    def __init__(self, command: str, doc: str, *, validator: Validator[T] | None = None,
                 encode: Callable[[T], str] = str, sent: Callable[[str], T] | None = None) -> None:
        self.command = command
        self.__doc__ = doc
        self.validator = validator
        self.encode = encode
        self.sent = sent
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, driver: Any, owner: type | None = None) -> Any:
        if driver is None:
            return self
        return driver.__dict__.get(f"_{self.name}_sent")

    def __set__(self, driver: Driver, value: T) -> None:
        self.send(driver, value)

    def check(self, driver: Any, value: T) -> T:
        """Return `value` as it would be sent, or raise `InterlockError`; sends nothing."""
        return value if self.validator is None else self.validator(driver, value)

    def send(self, driver: Driver, value: T) -> T:
        """Validate, encode and write `value`; return (and remember) the value the instrument was given."""
        argument = self.encode(self.check(driver, value))
        driver.write(self.command.format(argument))
        given = value if self.sent is None else self.sent(argument)
        driver.__dict__[f"_{self.name}_sent"] = given
        return given


class Measurement(Generic[T]):
    """A value read from the instrument: `command` is sent and its reply parsed on every read.

    Args:
        command: The query (e.g. `":READ?"`).
        parse: Turns the reply text into the value; raises on anything malformed.
        doc: One line starting with Measure/Get (the property's docstring).
        cache: Query once per driver instance (constant properties such as the pixel wavelengths).
    """

    def __init__(self, command: str, parse: Callable[[str], T], doc: str, *, cache: bool = False) -> None:
        self.command = command
        self.parse = parse
        self.__doc__ = doc
        self.cache = cache
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, driver: Any, owner: type | None = None) -> Any:
        if driver is None:
            return self
        slot = f"_{self.name}_cached"
        if self.cache and slot in driver.__dict__:
            return driver.__dict__[slot]
        value = self.read(driver)
        if self.cache:
            driver.__dict__[slot] = value
        return value

    def __set__(self, driver: Any, value: object) -> None:
        raise AttributeError(f"{self.name} is a measurement; it cannot be set")

    def read(self, driver: Queryable) -> T:
        """Send the query and return the parsed reply (never cached)."""
        return parse_reply(driver, self.parse, driver.ask(self.command), f"{self.name} ({self.command})")


class Control(Setting[T]):
    """A setting that can also be read back from the instrument (`get_command`, parsed like a `Measurement`)."""

    def __init__(self, get_command: str, set_command: str, parse: Callable[[str], T], doc: str,
                 **setting: Any) -> None:
        super().__init__(set_command, doc, **setting)
        self.get_command = get_command
        self.parse = parse

    def __get__(self, driver: Any, owner: type | None = None) -> Any:
        if driver is None:
            return self
        return parse_reply(driver, self.parse, driver.ask(self.get_command), f"{self.name} ({self.get_command})")
