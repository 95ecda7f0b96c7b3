"""Every sentence the notifier writes, per language, and how money, days and months are written.

A person's `locale` (from auth's `ProfileUpdated`, e.g. "de", "de-AT", "en-GB") picks the language:
German for every "de…" locale, English for everything else. `EN` and `DE` hold the same keys; a key
missing from a language falls back to English. Placeholders are `str.format` fields; the `*_html`
entries are HTML whose fields are escaped when filled (`html()`).

English money stays as `Money.format()` writes it ("1234.50 EUR"), as it always was; other languages
use Babel with the person's full locale ("1.234,50 €" for "de", "€ 1.234,50" for "de-AT").

To add a language: add its table below, add it to `TABLES` and to `language()`, and give every
`TYPE_LABELS` entry a translation.
"""

import calendar
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal
from markupsafe import Markup

from tallykit.money import Money, minor_unit_digits

EN: Mapping[str, str] = {
    # budget alerts
    "budget_exceeded_title": "{category} budget exceeded",
    "budget_threshold_title": "{category} budget: {percent}% used",
    "budget_exceeded_body": "{spent} spent of the {budget} {category} budget for {month}{over}.",
    "budget_over_suffix": ", {over} over",
    "budget_threshold_body": (
        "{spent} spent of the {budget} {category} budget for {month} ({percent}% reached)."
    ),
    "budget_used_up_html": "Your <strong>{category}</strong> budget in {household} is used up.",
    "budget_used_html": "Your <strong>{category}</strong> budget in {household} is {percent}% used.",
    "budget_used_up": "Your {category} budget in {household} is used up.",
    "budget_used": "Your {category} budget in {household} is {percent}% used.",
    "span": "{first} - {last}",
    "fact_spent": "Spent",
    "fact_budget": "Budget",
    "fact_over": "Over",
    "fact_period": "Period",
    "fact_month": "Month",
    "link_budgets": "See your budgets",
    # pace
    "pace_title": "{category}: on pace to overspend",
    "pace_body": "At this pace {category} will reach {projected} by {end}, past its {budget} budget.",
    "fact_spent_so_far": "Spent so far",
    "fact_projected": "Projected",
    # goals
    "fact_saved": "Saved",
    "fact_target": "Target",
    "fact_by": "By",
    "fact_needed": "Needed per month",
    "goal_reached_title": "Goal reached: {name}",
    "goal_reached_body": "You saved {saved} for {name}, reaching its {target} target.",
    "goal_behind_title": "Goal behind: {name}",
    "goal_behind_body": (
        "{name} has {saved} of {target}; about {needed} a month would bring it back on track."
    ),
    "link_goals": "See your goals",
    # debt goals: saved is what was paid off, target the debt when the goal was set
    "fact_paid_off": "Paid off",
    "fact_debt": "Debt",
    "debt_paid_title": "Debt paid off: {name}",
    "debt_paid_body": "You paid off {name}: all {target} it owed when you set the goal.",
    "debt_behind_title": "Paying off {name} is behind",
    "debt_behind_body": (
        "{saved} of {name}'s {target} is paid off; about {needed} a month would pay it off by its date."
    ),
    # bills and recurring transactions
    "today": "today",
    "tomorrow": "tomorrow",
    "in_days": "in {days} days",
    "bill_title": "{name} is due {when}",
    "bill_body": "{name} ({amount}{payee}) is due on {day}.",
    "fact_amount": "Amount",
    "fact_due": "Due",
    "link_bills": "See your bills",
    "recurring_posted_title": "{name} was recorded",
    "recurring_due_title": "{name} is due",
    "recurring_posted_body": "{name} ({amount}) was recorded for {day}.",
    "recurring_due_body": "{name} ({amount}) is due on {day}.",
    "fact_date": "Date",
    "link_recurring": "See it in Tally",
    # recurring payments found in the history
    "every_weekly": "a week",
    "every_monthly": "a month",
    "every_quarterly": "a quarter",
    "every_yearly": "a year",
    "series_found_title": "Recurring payment found: {name}",
    "series_found_income_title": "Recurring income found: {name}",
    "series_found_body": (
        "{name}: {amount} {every}, {count} payments since {first}; the next is expected on {next}. "
        "One click makes it a schedule."
    ),
    "series_found_price": " Until {day} it was {old}.",
    "series_price_title": "{name}: {old} → {new} from {month}",
    "series_price_body": "{name} is now {new} {every} instead of {old} (since {day}).",
    "series_stopped_title": "{name} seems to have stopped",
    "series_stopped_body": (
        "No payment of {name} ({amount} {every}) since {day}: {missed} expected ones did not come. "
        "If you cancelled it, all is well; if not, ask them why."
    ),
    "fact_payments": "Payments",
    "fact_next": "Next expected",
    "fact_before": "Before",
    "fact_now": "Now",
    "fact_last": "Last payment",
    "link_proposals": "See what was found",
    # unusual spending
    "a_transaction": "a transaction",
    "unusual_title": "Unusual spending: {amount} at {where}",
    "unusual_body": "{amount} on {day} is far above the usual {typical}. {reason}",
    "fact_usually": "Usually",
    "link_transaction": "See the transaction",
    # security
    "security_new_sign_in": "New sign-in to your Tally account",
    "security_password_changed": "Your Tally password was changed",
    "security_two_factor_changed": "Two-factor sign-in was changed",
    "security_body": "{detail} If this was not you, change your password and sign out of other sessions now.",
    "detail_new_device": "Your account was signed in to from a new device.",
    "detail_password_reset": "Your password was reset with an e-mailed link.",
    "detail_password_changed": "Your password was changed.",
    "detail_two_factor_on": "Two-factor sign-in was switched on for your account.",
    "detail_two_factor_off": "Two-factor sign-in was switched off for your account.",
    "fact_device": "Device",
    "fact_address": "Address",
    "link_security": "Review your security",
    # rate-limit summary
    "summary_part": "{count} x {label}",
    "summary_title": "{count} more notifications",
    "summary_body": "There were {count} more notifications than we send at once: {parts}.",
    "link_notifications": "Open the notification centre",
    # e-mail layout
    "greeting": "Hello {name},",
    "greeting_anonymous": "Hello there,",
    "footer_html": "You get this because you are a member of {household} in Tally.",
    "footer_text": "you get this because you are a member of {household}.",
    "unsubscribe": "Unsubscribe from {label} e-mails",
    "these": "these",
    "settings": "Notification settings",
    "open_tally": "Open Tally",
    "unnamed_household": "your household",
    # invitations
    "someone": "Someone",
    "invitation_subject": "{by} invited you to {household} on Tally",
    "invitation_body_html": "{by} invited you to join <strong>{household}</strong> in Tally as {role}.",
    "invitation_body": "{by} invited you to join {household} in Tally as {role}.",
    "invitation_expiry": (
        "The invitation works once and expires on {expires}. If you do not know {by}, ignore this e-mail."
    ),
    "invitation_footer_html": "This e-mail was sent because {by} entered your address in Tally.",
    "invitation_footer_text": "sent because {by} entered your address in Tally.",
    "invitation_accept": "Accept the invitation",
    "role_owner": "an owner",
    "role_member": "a member",
    "role_viewer": "a viewer (read only)",
    "expires_at": "{day} at {time} UTC",
    # account mail (verify the address, reset the password)
    "verify_subject": "Confirm your email address for Tally",
    "verify_title": "Confirm your email address",
    "verify_intro_html": "Please confirm that <strong>{email}</strong> is your email address for Tally.",
    "verify_intro_text": "Please confirm that {email} is your email address for Tally by opening this link:",
    "verify_button": "Confirm my email address",
    "verify_expiry": (
        "The link works once and expires on {expires}. If you did not sign up for Tally, ignore this email."
    ),
    "reset_subject": "Reset your Tally password",
    "reset_intro_html": "Someone (we hope you) asked to reset the password of your Tally account.",
    "reset_intro_text": (
        "Someone (we hope you) asked to reset the password of your Tally account. To choose a new password,\n"
        "open this link:"
    ),
    "reset_button": "Choose a new password",
    "reset_expiry": (
        "The link works once and expires on {expires}. Setting a new password signs you out everywhere.\n"
        "If you did not ask for this, ignore this email: your password stays as it is."
    ),
    # digests
    "digest_title_weekly": "Your week in Tally: {span}",
    "digest_title_monthly": "Your month in Tally: {span}",
    "digest_intro": "Here is your summary for {span}.",
    "digest_spent": "Spent in budgeted categories",
    "digest_total": "Total ({currency})",
    "digest_no_spending_weekly": "No budget reported spending this week.",
    "digest_no_spending_monthly": "No budget reported spending this month.",
    "digest_top": "Top categories",
    "digest_nothing": "Nothing to report.",
    "digest_at_risk": "Budgets at risk",
    "digest_of": "{spent} of {budget}",
    "digest_none_at_risk": "None: every budget is on track.",
    "digest_bills": "Upcoming bills (next 14 days)",
    "digest_no_bills": "No bills due.",
    "digest_alerts_weekly": "Alerts this week",
    "digest_alerts_monthly": "Alerts this month",
    "digest_unusual": "Unusual transactions",
    "digest_no_alerts": "No alerts.",
    "digest_savings": "Savings opportunities",
    "digest_no_savings": "None found this month.",
    "savings_above_median": "{name}: above its {months}-month median",
    "savings_above_median_figures": "{amount} against {median} ({percent})",
    "savings_price_rise": "{name} costs more since {day}",
    "savings_price_rise_figures": "{old} → {new} {every}: {yearly} a year, {extra} more",
    "savings_duplicate": "{count} subscriptions to {name}",
    "savings_duplicate_figures": "{each}: {yearly} a year together",
    "savings_fees": "{name}: fees and interest paid",
    "savings_fees_figures": "{amount} this month, {yearly} in 12 months",
    "savings_percent": "+{percent}%",
    "savings_link": "Show the transactions",
}

DE: Mapping[str, str] = {
    "budget_exceeded_title": "Budget „{category}“ überschritten",
    "budget_threshold_title": "Budget „{category}“: {percent} % verbraucht",
    "budget_exceeded_body": "{spent} von {budget} im Budget „{category}“ für {month} ausgegeben{over}.",
    "budget_over_suffix": ", {over} darüber",
    "budget_threshold_body": (
        "{spent} von {budget} im Budget „{category}“ für {month} ausgegeben ({percent} % erreicht)."
    ),
    "budget_used_up_html": "Dein Budget <strong>{category}</strong> in {household} ist aufgebraucht.",
    "budget_used_html": (
        "Dein Budget <strong>{category}</strong> in {household} ist zu {percent} % verbraucht."
    ),
    "budget_used_up": "Dein Budget „{category}“ in {household} ist aufgebraucht.",
    "budget_used": "Dein Budget „{category}“ in {household} ist zu {percent} % verbraucht.",
    "span": "{first} - {last}",
    "fact_spent": "Ausgegeben",
    "fact_budget": "Budget",
    "fact_over": "Darüber",
    "fact_period": "Zeitraum",
    "fact_month": "Monat",
    "link_budgets": "Budgets ansehen",
    "pace_title": "{category}: Budget wird voraussichtlich überschritten",
    "pace_body": (
        "Bei diesem Tempo kommt {category} bis zum {end} auf {projected} und liegt damit über dem Budget "
        "von {budget}."
    ),
    "fact_spent_so_far": "Bisher ausgegeben",
    "fact_projected": "Hochrechnung",
    "fact_saved": "Gespart",
    "fact_target": "Ziel",
    "fact_by": "Bis",
    "fact_needed": "Nötig pro Monat",
    "goal_reached_title": "Sparziel erreicht: {name}",
    "goal_reached_body": "Du hast {saved} für {name} gespart und das Ziel von {target} erreicht.",
    "goal_behind_title": "Sparziel im Rückstand: {name}",
    "goal_behind_body": (
        "{name} steht bei {saved} von {target}; mit etwa {needed} im Monat ist es wieder im Plan."
    ),
    "link_goals": "Sparziele ansehen",
    "fact_paid_off": "Abbezahlt",
    "fact_debt": "Schuld",
    "debt_paid_title": "Schuld abbezahlt: {name}",
    "debt_paid_body": (
        "Du hast {name} abbezahlt: die ganzen {target}, die beim Anlegen des Ziels offen waren."
    ),
    "debt_behind_title": "Tilgung im Rückstand: {name}",
    "debt_behind_body": (
        "Von {target} für {name} sind {saved} abbezahlt; mit etwa {needed} im Monat ist es bis zum Termin "
        "abbezahlt."
    ),
    "today": "heute",
    "tomorrow": "morgen",
    "in_days": "in {days} Tagen",
    "bill_title": "{name} ist {when} fällig",
    "bill_body": "{name} ({amount}{payee}) ist am {day} fällig.",
    "fact_amount": "Betrag",
    "fact_due": "Fällig",
    "link_bills": "Rechnungen ansehen",
    "recurring_posted_title": "{name} wurde gebucht",
    "recurring_due_title": "{name} ist fällig",
    "recurring_posted_body": "{name} ({amount}) wurde für den {day} gebucht.",
    "recurring_due_body": "{name} ({amount}) ist am {day} fällig.",
    "fact_date": "Datum",
    "link_recurring": "In Tally ansehen",
    "every_weekly": "pro Woche",
    "every_monthly": "pro Monat",
    "every_quarterly": "pro Quartal",
    "every_yearly": "pro Jahr",
    "series_found_title": "Regelmäßige Zahlung gefunden: {name}",
    "series_found_income_title": "Regelmäßige Einnahme gefunden: {name}",
    "series_found_body": (
        "{name}: {amount} {every}, {count} Zahlungen seit dem {first}; die nächste wird am {next} "
        "erwartet. Mit einem Klick wird daraus eine wiederkehrende Buchung."
    ),
    "series_found_price": " Bis zum {day} waren es {old}.",
    "series_price_title": "{name}: {old} → {new} ab {month}",
    "series_price_body": "{name} beträgt jetzt {new} {every} statt {old} (seit dem {day}).",
    "series_stopped_title": "{name} scheint beendet",
    "series_stopped_body": (
        "Seit dem {day} keine Zahlung von {name} ({amount} {every}): {missed} erwartete blieben aus. "
        "Falls du gekündigt hast, ist alles gut; sonst frag nach."
    ),
    "fact_payments": "Zahlungen",
    "fact_next": "Nächste erwartet",
    "fact_before": "Vorher",
    "fact_now": "Jetzt",
    "fact_last": "Letzte Zahlung",
    "link_proposals": "Funde ansehen",
    "a_transaction": "einer Buchung",
    "unusual_title": "Ungewöhnliche Ausgabe: {amount} bei {where}",
    "unusual_body": "{amount} am {day} liegt weit über den üblichen {typical}. {reason}",
    "fact_usually": "Üblich",
    "link_transaction": "Buchung ansehen",
    "security_new_sign_in": "Neue Anmeldung bei deinem Tally-Konto",
    "security_password_changed": "Dein Tally-Passwort wurde geändert",
    "security_two_factor_changed": "Die Zwei-Faktor-Anmeldung wurde geändert",
    "security_body": (
        "{detail} Falls du das nicht warst, ändere jetzt dein Passwort und melde dich von anderen "
        "Sitzungen ab."
    ),
    "detail_new_device": "Dein Konto wurde von einem neuen Gerät aus angemeldet.",
    "detail_password_reset": "Dein Passwort wurde über einen per E-Mail geschickten Link zurückgesetzt.",
    "detail_password_changed": "Dein Passwort wurde geändert.",
    "detail_two_factor_on": "Die Zwei-Faktor-Anmeldung wurde für dein Konto eingeschaltet.",
    "detail_two_factor_off": "Die Zwei-Faktor-Anmeldung wurde für dein Konto ausgeschaltet.",
    "fact_device": "Gerät",
    "fact_address": "Adresse",
    "link_security": "Sicherheit prüfen",
    "summary_part": "{count} x {label}",
    "summary_title": "{count} weitere Benachrichtigungen",
    "summary_body": "Es gab {count} Benachrichtigungen mehr, als wir auf einmal senden: {parts}.",
    "link_notifications": "Benachrichtigungen öffnen",
    "greeting": "Hallo {name},",
    "greeting_anonymous": "Hallo,",
    "footer_html": "Du bekommst diese E-Mail, weil du Mitglied von {household} in Tally bist.",
    "footer_text": "du bekommst diese E-Mail, weil du Mitglied von {household} bist.",
    "unsubscribe": "E-Mails „{label}“ abbestellen",
    "these": "diese",
    "settings": "Benachrichtigungseinstellungen",
    "open_tally": "Tally öffnen",
    "unnamed_household": "deinem Haushalt",
    "someone": "Jemand",
    "invitation_subject": "{by} hat dich zu {household} in Tally eingeladen",
    "invitation_body_html": (
        "{by} hat dich eingeladen, <strong>{household}</strong> in Tally als {role} beizutreten."
    ),
    "invitation_body": "{by} hat dich eingeladen, {household} in Tally als {role} beizutreten.",
    "invitation_expiry": (
        "Die Einladung gilt einmal und läuft am {expires} ab. Wenn du {by} nicht kennst, ignoriere "
        "diese E-Mail."
    ),
    "invitation_footer_html": "Diese E-Mail wurde gesendet, weil {by} deine Adresse in Tally eingegeben hat.",
    "invitation_footer_text": "gesendet, weil {by} deine Adresse in Tally eingegeben hat.",
    "invitation_accept": "Einladung annehmen",
    "role_owner": "Eigentümer:in",
    "role_member": "Mitglied",
    "role_viewer": "Betrachter:in (nur lesen)",
    "expires_at": "{day} um {time} UTC",
    "verify_subject": "Bestätige deine E-Mail-Adresse für Tally",
    "verify_title": "Bestätige deine E-Mail-Adresse",
    "verify_intro_html": "Bitte bestätige, dass <strong>{email}</strong> deine E-Mail-Adresse für Tally ist.",
    "verify_intro_text": (
        "Bitte bestätige, dass {email} deine E-Mail-Adresse für Tally ist, indem du diesen Link öffnest:"
    ),
    "verify_button": "E-Mail-Adresse bestätigen",
    "verify_expiry": (
        "Der Link gilt einmal und läuft am {expires} ab. Wenn du dich nicht bei Tally registriert hast, "
        "ignoriere diese E-Mail."
    ),
    "reset_subject": "Setze dein Tally-Passwort zurück",
    "reset_intro_html": "Jemand (hoffentlich du) möchte das Passwort deines Tally-Kontos zurücksetzen.",
    "reset_intro_text": (
        "Jemand (hoffentlich du) möchte das Passwort deines Tally-Kontos zurücksetzen. Um ein neues\n"
        "Passwort zu wählen, öffne diesen Link:"
    ),
    "reset_button": "Neues Passwort wählen",
    "reset_expiry": (
        "Der Link gilt einmal und läuft am {expires} ab. Ein neues Passwort meldet dich überall ab.\n"
        "Wenn du das nicht angefordert hast, ignoriere diese E-Mail: dein Passwort bleibt, wie es ist."
    ),
    "digest_title_weekly": "Deine Woche in Tally: {span}",
    "digest_title_monthly": "Dein Monat in Tally: {span}",
    "digest_intro": "Hier ist deine Zusammenfassung für {span}.",
    "digest_spent": "Ausgaben in Kategorien mit Budget",
    "digest_total": "Gesamt ({currency})",
    "digest_no_spending_weekly": "Kein Budget hat diese Woche Ausgaben gemeldet.",
    "digest_no_spending_monthly": "Kein Budget hat diesen Monat Ausgaben gemeldet.",
    "digest_top": "Top-Kategorien",
    "digest_nothing": "Nichts zu berichten.",
    "digest_at_risk": "Gefährdete Budgets",
    "digest_of": "{spent} von {budget}",
    "digest_none_at_risk": "Keine: Alle Budgets liegen im Plan.",
    "digest_bills": "Anstehende Rechnungen (nächste 14 Tage)",
    "digest_no_bills": "Keine Rechnungen fällig.",
    "digest_alerts_weekly": "Hinweise dieser Woche",
    "digest_alerts_monthly": "Hinweise dieses Monats",
    "digest_unusual": "Ungewöhnliche Buchungen",
    "digest_no_alerts": "Keine Hinweise.",
    "digest_savings": "Sparmöglichkeiten",
    "digest_no_savings": "Diesen Monat keine gefunden.",
    "savings_above_median": "{name}: über dem Median der {months} Monate davor",
    "savings_above_median_figures": "{amount} gegenüber {median} ({percent})",
    "savings_price_rise": "{name} kostet seit {day} mehr",
    "savings_price_rise_figures": "{old} → {new} {every}: {yearly} im Jahr, {extra} mehr",
    "savings_duplicate": "{count} Abos bei {name}",
    "savings_duplicate_figures": "{each}: zusammen {yearly} im Jahr",
    "savings_fees": "{name}: Gebühren und Zinsen",
    "savings_fees_figures": "{amount} diesen Monat, {yearly} in 12 Monaten",
    "savings_percent": "+{percent} %",
    "savings_link": "Buchungen ansehen",
}

TABLES: Mapping[str, Mapping[str, str]] = {"en": EN, "de": DE}

# The notification types' names in the unsubscribe line and the rate-limit summary (English: TYPES).
TYPE_LABELS: Mapping[str, Mapping[str, str]] = {
    "de": {
        "budget.threshold_reached": "Budgetschwelle erreicht",
        "budget.exceeded": "Budget überschritten",
        "budget.pace_warning": "Budget droht überschritten zu werden",
        "goal.reached": "Sparziel erreicht",
        "goal.behind": "Sparziel im Rückstand",
        "bill.due_soon": "Rechnung bald fällig",
        "recurring.due": "Wiederkehrende Buchung fällig",
        "recurring.finding": "Regelmäßige Zahlung gefunden, geändert oder beendet",
        "spending.unusual": "Ungewöhnliche Ausgabe",
        "security.new_sign_in": "Neue Anmeldung",
        "security.password_changed": "Passwort geändert",
        "security.two_factor_changed": "Zwei-Faktor-Anmeldung geändert",
        "digest.weekly": "Wöchentliche Zusammenfassung",
        "digest.monthly": "Monatliche Zusammenfassung",
    },
}


def language(locale: str | None) -> str:
    """The language to write in for a locale: "de" for "de", "de-AT", "de_CH"…, else "en"."""
    primary = (locale or "").replace("_", "-").split("-")[0].lower()
    return primary if primary in TABLES else "en"


def words(locale: str | None, key: str, /, **fields: Any) -> str:
    table = TABLES[language(locale)]
    text = table.get(key, EN[key])
    return text.format(**fields) if fields else text


def html(locale: str | None, key: str, /, **fields: Any) -> Markup:
    """An HTML sentence with its fields escaped."""
    # The sentence is ours (the tables above); `format` escapes every field filled in.
    return Markup(words(locale, key)).format(**fields)  # noqa: S704


def household(name: str, locale: str | None) -> str:
    """A household's name; the stand-in for a household without one ("your household") translated."""
    return words(locale, "unnamed_household") if name == EN["unnamed_household"] else name


def _babel_locale(locale: str | None) -> Locale:
    """The person's own locale when Babel knows it (regional formats), else their language's."""
    try:
        return Locale.parse((locale or "en").replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse(language(locale))


def _plain(text: str) -> str:
    # Babel puts no-break spaces between amount and symbol; mail and push read better with plain ones.
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def money(amount_minor: int, currency: str, locale: str | None = None) -> str:
    if language(locale) == "en":
        return Money(amount_minor=amount_minor, currency=currency).format()
    digits = minor_unit_digits(currency)
    value = Decimal(amount_minor).scaleb(-digits)
    return _plain(format_currency(value, currency, locale=_babel_locale(locale)))


def number(value: int, locale: str | None = None) -> str:
    if language(locale) == "en":
        return f"{value:,}"
    return _plain(format_decimal(value, locale=_babel_locale(locale)))


def day(when: date, locale: str | None = None) -> str:
    """ "3 December 2026" / "3. Dezember 2026"."""
    if language(locale) == "en":
        return f"{when.day} {calendar.month_name[when.month]} {when.year}"
    return format_date(when, "long", locale=_babel_locale(locale))


def short_day(when: date, locale: str | None = None, *, year: bool = False) -> str:
    """ "03 Dec" / "03. Dez." (with the year: "03 Dec 2026" / "03. Dez. 2026")."""
    if language(locale) == "en":
        return f"{when:%d %b %Y}" if year else f"{when:%d %b}"
    return format_date(when, "dd. MMM y" if year else "dd. MMM", locale=_babel_locale(locale))


def month(period: str, locale: str | None = None) -> str:
    """ "2025-06" → "June 2025" / "Juni 2025"."""
    year, number_ = period.split("-")
    first = date(int(year), int(number_), 1)
    if language(locale) == "en":
        return f"{calendar.month_name[first.month]} {year}"
    return format_date(first, "LLLL y", locale=_babel_locale(locale))


def expires(at: datetime, locale: str | None = None) -> str:
    """When a link expires, in UTC: "01 December 2026 at 00:00 UTC" / "1. Dezember 2026 um 00:00 UTC"."""
    if language(locale) == "en":
        return at.strftime("%d %B %Y at %H:%M UTC")
    return words(locale, "expires_at", day=day(at.date(), locale), time=f"{at:%H:%M}")


def type_label(kind: str, locale: str | None, english: str) -> str:
    """A notification type's name; English ones come from `domain.TYPES` (passed in as `english`)."""
    return TYPE_LABELS.get(language(locale), {}).get(kind, english)
