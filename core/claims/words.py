"""The words a claim is made of, in German and English: comparisons and status, negation, trends, causes,
intentions and events, hedges, requests and courtesies, names, counts and numbers written as words."""

from __future__ import annotations

import re

from core.verify import MONTHS


def rx(*words: str) -> re.Pattern[str]:
    """Any of the words, whole, case-insensitive."""
    return re.compile(r"(?<![\w-])(?:" + "|".join(words) + r")(?![\w-])", re.IGNORECASE)


def inflected(*words: str) -> re.Pattern[str]:
    """Any of the words, also with a German adjective ending ("die angekündigte Ausschreibung")."""
    return rx(*(f"(?:{word})(?:e|en|er|es|em)?" for word in words))


MONTH_WORDS = "|".join(sorted(MONTHS, key=len, reverse=True))
# A claim about one metric ends at ";", ":" or a conjunction; "and" between two months or figures joins them
# ("in August and September"); a comma keeps "OTIF is 91 %, below the target" together.
CLAUSE_BREAK = re.compile(rf";|:\s|\s[–—]\s|(?<![\w-])(?:(?:and|und|sowie)"
                          rf"(?!\s+(?:in\s+|im\s+)?(?:{MONTH_WORDS}|[-−]?\d))|"
                          r"but|while|whereas|whilst|although|though|während|sondern|obwohl|wohingegen)(?![\w-])|"
                          r",\s*(?:aber|jedoch|doch|dagegen)(?![\w-])", re.IGNORECASE)

# --- negation ------------------------------------------------------------------------------------------
NEGATION = rx(r"not", r"no", r"never", r"none", r"neither", r"nor", r"without", r"\w+n't", r"cannot",
              r"nicht", r"kein\w*", r"nie", r"niemals", r"ohne", r"weder", r"noch nicht")
NOT_ONLY = rx(r"not only", r"nicht nur", r"no longer", r"nicht mehr", r"nicht länger")

# --- comparisons with a target and status -----------------------------------------------------------------
BELOW = rx(r"below", r"under", r"beneath", r"short of", r"less than", r"lower than", r"behind",
           r"hinter", r"(?:bleibt|blieb|bleiben|liegt|lag)\b[^.;]{0,60}?\bhinter\b[^.;]{0,60}?\bzurück",
           r"(?:falls?|fell|falling) (?:just |slightly |narrowly |well )?short",
           r"unter", r"unterhalb", r"niedriger als", r"weniger als", r"geringer als", r"unterschreit\w*",
           r"unterschritten", r"bleibt unter", r"liegt unter", r"lag unter")
ABOVE = rx(r"above", r"over", r"exceed\w*", r"ahead of", r"higher than", r"more than", r"greater than", r"beat\w*",
           r"surpass\w*", r"outperform\w*", r"older than", r"über", r"oberhalb", r"höher als", r"mehr als",
           r"größer als", r"älter als", r"überschreit\w*", r"überschritten", r"übertrifft", r"übertroffen",
           r"übertraf", r"übersteig\w*", r"überstieg\w*", r"darüber")
MEETS = rx(r"meets?", r"met", r"reach\w*", r"achiev\w*", r"hits?", r"on target", r"on track", r"in line with",
           r"within (?:the )?(?:target|limit|corridor|policy|range)", r"in the corridor", r"inside the corridor",
           r"compliant", r"complies", r"fulfil\w*", r"satisf\w*", r"erreicht\w*", r"erreichen", r"erfüllt\w*",
           r"erfüllen", r"hält", r"eingehalten", r"einhält", r"im Korridor", r"im Ziel", r"im Plan", r"im Soll",
           r"auf Kurs", r"planmäßig", r"auf gutem Weg", r"on course",
           r"im Rahmen", r"im grünen Bereich", r"im Limit",
           r"innerhalb (?:des|der) (?:Ziel\w*|Limit\w*|Korridor\w*|Vorgabe\w*)")
MISSES = rx(r"miss\w*", r"fail\w*", r"violat\w*", r"off track", r"off target", r"behind (?:the )?target",
            r"verfehlt\w*", r"verfehlen", r"verletzt\w*", r"verletzen", r"nicht erreicht", r"reißt", r"gerissen")
BREACH = rx(r"breach\w*", r"in breach", r"Verstoß\w*", r"Regelverstoß\w*", r"Verletzung", r"rot", r"red")
WARN = rx(r"warn\w*", r"early warning", r"Warnung\w*", r"Frühwarnung", r"gelb", r"yellow", r"amber",
          r"close to (?:the )?(?:target|limit|threshold)")
# a status word means the status; a positive word means nothing is wrong at all
STATUS_OK = rx(r"ok", r"okay", r"in order", r"in Ordnung", r"green", r"grün", r"no issues?", r"unauffällig",
               r"unproblematisch", r"unkritisch")
POSITIVE = rx(r"healthy", r"gesund", r"fine", r"good", r"gut", r"solid\w*", r"strong", r"stark", r"excellent",
              r"hervorragend", r"sehr gut")
BAD = rx(r"problem\w*", r"issue", r"concern\w*", r"critical", r"kritisch\w*", r"bedenklich\w*", r"poor", r"weak",
         r"schwach\w*", r"schlecht\w*", r"worrying", r"besorgniserregend\w*", r"alarming", r"alarmierend\w*",
         r"at risk", r"gefährdet")
COMFORTABLY = rx(r"comfortabl\w*", r"well", r"clearly", r"easily", r"significantly", r"far", r"deutlich\w*",
                 r"klar", r"bequem\w*", r"weit", r"locker", r"sicher")
BETTER = rx(r"better than", r"besser als")
WORSE = rx(r"worse than", r"schlechter als")
NEGATIVE = rx(r"negativ\w*", r"in the red", r"im Minus", r"shrinking", r"schrumpf\w*")
POSITIVE_SIGN = rx(r"positiv\w*", r"im Plus")
# "none of the KPIs", "alle Kennzahlen": a judgement about every rule of the account
ALL_RULES = rx(r"KPIs?", r"Kennzahlen", r"metrics", r"rules", r"Regeln", r"indicators")

# --- trends over time -------------------------------------------------------------------------------------
RISE = rx(r"ris(?:e|es|ing|en)", r"rose", r"increas\w*", r"grew", r"grow(?:s|ing|n)?", r"climb\w*", r"went up",
          r"gone up", r"goes up", r"up from", r"jump\w*", r"improv\w*", r"recover\w*", r"picked up", r"gestiegen",
          r"steig\w*", r"stieg\w*", r"zugelegt", r"zunehmend", r"nahm zu", r"nimmt zu", r"verbesser\w*", r"erholt\w*",
          r"angezogen", r"kletter\w*", r"gewachsen", r"wächst", r"wuchs",
          r"(?:nahm|nimmt|legte|legt)\b[^.;]{0,60}?\bzu",
          r"(?:stieg|steigt)\b[^.;]{0,60}?\ban")
FALL = rx(r"f[ae]ll(?:s|ing|en)?", r"fell", r"drop\w*", r"declin\w*", r"decreas\w*", r"sank", r"sunk", r"sink\w*",
          r"went down", r"gone down", r"goes down", r"down from", r"slip\w*", r"dip\w*", r"eased", r"edged down",
          r"shrank", r"deteriorat\w*", r"worsen\w*", r"weaken\w*", r"gesunken", r"sinkt", r"gefallen", r"fällt",
          r"fiel", r"zurückgegangen", r"geht zurück", r"ging zurück", r"rückläufig\w*", r"verschlechter\w*",
          r"eingebrochen", r"abgenommen", r"nimmt ab", r"nahm ab", r"abgesackt", r"gesackt", r"abgerutscht",
          r"nachgegeben", r"(?:ging|geht)\b[^.;]{0,60}?\bzurück", r"(?:nahm|nimmt)\b[^.;]{0,60}?\bab",
          r"(?:sank|sinkt|fiel|fällt)\b[^.;]{0,60}?\b(?:ab|zurück)")
STABLE = rx(r"stable", r"flat", r"unchanged", r"steady", r"constant", r"stabil\w*", r"unverändert\w*",
            r"konstant\w*", r"gleich geblieben", r"gleichbleibend\w*")
IMPROVED = rx(r"improv\w*", r"verbesser\w*", r"recover\w*", r"erholt\w*")
WORSENED = rx(r"deteriorat\w*", r"worsen\w*", r"verschlechter\w*")
EVERY_MONTH = rx(r"every month", r"each month", r"month after month", r"monthly", r"steadily", r"continuously",
                 r"consistently", r"jeden Monat", r"Monat für Monat", r"monatlich", r"stetig", r"kontinuierlich",
                 r"durchgehend", r"ununterbrochen")
AGAIN = rx(r"again", r"also", r"as well", r"erneut", r"wieder", r"ebenfalls", r"auch")
SINCE = rx(r"since", r"from", r"seit", r"ab", r"von")
YEAR_MONTH = re.compile(r"\b(20\d{2})-(0[1-9]|1[0-2])\b(?!-\d)")
MONTH_NAME = re.compile(rf"(?<![\w-])({MONTH_WORDS})\.?(?:\s+(20\d{{2}}))?(?![\w-])", re.IGNORECASE)
# "von November 2025 bis September 2026": every month between; "in allen anderen Monaten": every month the
# sentence does not name
MONTH_RANGE = re.compile(rf"(?<![\w-])(?:von|vom|from|between|zwischen)\s+((?:{MONTH_WORDS})\.?(?:\s+20\d{{2}})?)\s+"
                         rf"(?:bis(?:\s+(?:zum|einschließlich))?|to|until|through|and|und)\s+"
                         rf"((?:{MONTH_WORDS})\.?(?:\s+20\d{{2}})?)(?![\w-])", re.IGNORECASE)
OTHER_MONTHS = rx(r"(?:in )?all(?:e|en)? (?:anderen|übrigen|restlichen|weiteren) Monate[n]?",
                  r"(?:in )?(?:den|die) (?:anderen|übrigen|restlichen) Monate[n]?",
                  r"(?:in )?all (?:the )?other months",
                  r"(?:in )?(?:the|all the) (?:other|remaining) months", r"(?:in )?every other month", r"sonst",
                  r"otherwise")
# "14 Oct", "30. November": a day without its year (the year is that of the next full date, else the latest
# one nearest the as-of date)
DAY_MONTH = re.compile(rf"(?<![\w.,-])(\d{{1,2}})\.?\s+({MONTH_WORDS})\.?(?!\s*\d)(?![\w-])", re.IGNORECASE)
# "last month", "im Vormonat": the last closed month before the as-of date
LAST_MONTH = rx(r"last month", r"the previous month", r"the past month",
                r"(?:im )?(?:letzten|vergangenen|vorigen) Monat", r"(?:im )?Vormonat", r"letzten Monats",
                r"vergangenen Monats", r"des Vormonats")
AMBIGUOUS_MONTHS = {"mai", "may", "mar", "aug"}  # also words or names: need a year or a capital
# "in the last 90 days", "letzte 12 Monate", "R12": the period of a figure, not a figure
_COUNT = r"(?:\d{1,3}|two|three|four|five|six|nine|twelve|zwei|drei|vier|fünf|sechs|neun|zwölf)"
PERIOD = re.compile(r"(?<![\w-])(?:(?:in|within|over|during|for)\s+the\s+(?:last|past|previous|next|coming)|"
                    r"the\s+(?:last|past|next|coming)|"
                    rf"(?:in\s+den\s+|für\s+die\s+)?(?:letzten|vergangenen|nächsten|kommenden)|(?:last|past|next))\s+"
                    rf"{_COUNT}\s+"
                    r"(?:days?|weeks?|months?|Tage[n]?|Wochen|Monate[n]?)\b|"
                    rf"(?:über|over|across)\s+(?:die\s+|the\s+)?(?:letzten\s+|last\s+|past\s+)?{_COUNT}\s+"
                    r"(?:Monate[n]?|months|Wochen|weeks)\b|\bR12\b|\b\d{1,2}-(?:month|Monats)\w*",
                    re.IGNORECASE)

# --- what only a person's text can support ----------------------------------------------------------------
CAUSE = rx(r"because", r"due to", r"owing to", r"as a result of", r"caused by",
           r"(?:the )?reasons? (?:is|are|was|were|for)",
           r"since they", r"therefore", r"thus", r"hence", r"citing", r"weil", r"wegen", r"aufgrund", r"auf Grund",
           r"infolge", r"deshalb", r"daher", r"deswegen", r"darum", r"(?:der )?Grund (?:ist|war|dafür|sind)",
           r"(?:geht|ging|gehen|gingen)\s+auf\b[^.;]{0,60}?\bzurück", r"zurückzuführen", r"resulted from",
           r"results from",
           r"stems from", r"stemmed from", r"goes back to", r"went back to", r"traced to",
           r"Gründe (?:sind|waren|dafür)", r"Ursachen? (?:ist|war|sind|waren|dafür|liegt|liegen)", r"verursacht",
           r"liegt (?:das )?an", r"lag (?:das )?an", r"da (?:der|die|das|sie|er|es)")
INTENT = rx(r"will", r"won't", r"shall", r"going to", r"plans? to", r"planning to", r"intends? to", r"intending to",
            r"wants? to", r"expects? to", r"is about to", r"is considering", r"considers", r"threaten\w*",
            r"is likely to", r"likely", r"expected to", r"is to be", r"are to be", r"wird", r"werden", r"wollen",
            r"soll", r"sollen", r"plant", r"planen", r"beabsichtig\w*", r"möchte\w*", r"will\b(?= \w+en\b)",
            r"erwäg\w*", r"überleg\w*", r"vorhaben", r"droht", r"drohen", r"voraussichtlich", r"künftig",
            r"demnächst")
# an event: what happened (the verb itself must be in the supporting note)
EVENT = inflected(r"cancel\w*", r"award\w*", r"vergeben", r"erteilt\w*", r"Zuschlag\w*", r"terminat\w*", r"switch\w*",
                  r"moved? to", r"moving to", r"signed", r"lost", r"won",
           r"complain\w*", r"announc\w*", r"promis\w*", r"committed", r"requested", r"asked for", r"agreed to",
           r"stimmte\w* zu", r"zugestimmt", r"accepted",
           r"demanded", r"approv\w*", r"rejected", r"declined", r"paid", r"settled", r"sent", r"received",
           r"confirm\w*", r"reduc\w*", r"cut", r"raised", r"lowered", r"increased", r"insolven\w*", r"bankrupt\w*",
           r"competitor\w*", r"tender\w*", r"strike", r"layoffs?", r"acquired", r"merged", r"kündig\w*",
           r"gekündigt", r"Kündigung\w*", r"gewechselt", r"wechsel\w*", r"unterschrieben", r"unterzeichnet",
           r"verloren", r"gewonnen", r"beschwer\w*", r"Beschwerde\w*", r"reklamier\w*", r"Reklamation\w*",
           r"angekündigt", r"kündigt", r"zugesagt", r"versprochen", r"gefordert", r"fordert",
           r"verlangt", r"genehmigt", r"freigegeben", r"abgelehnt", r"bezahlt", r"beglichen", r"überwiesen",
           r"geschickt", r"gesendet", r"verschickt", r"erhalten", r"bestätigt", r"reduziert", r"gesenkt",
           r"unterschrieb\w*", r"unterzeichnete\w*", r"festgestellt", r"entdeckt", r"detected",
           r"gemeldet", r"reported", r"raised", r"eröffnet", r"opened", r"gewann", r"verlor", r"kündigte\w*",
           r"presented", r"vorgestellt", r"präsentiert", r"forderte\w*", r"verlangte\w*", r"bat", r"baten",
           r"beschwerte\w*", r"zahlte\w*", r"storn\w*", r"zurückgezogen", r"withdrawn", r"withdrew",
           r"gekürzt", r"erhöht", r"Insolvenz\w*", r"insolvent", r"Wettbewerb\w*", r"Konkurren\w*",
           r"Ausschreibung\w*", r"Streik\w*", r"übernommen", r"Entlassung\w*")
# saying that a document says something: its words must be in the document
_DOC = (r"(?:contract|agreement|note|mail|e-mail|email|clause|document|NDA|entry|report|\w*[Vv]ertrag\w*|"
        r"Nachtrag\w*|\w*[Nn]otiz|\w*[Mm]ail|Klausel|Dokument|Eintrag|\w*[Bb]ericht|§\s*\d+\w*)")
ATTRIBUTION = re.compile(
    rf"(?<![\w-])(?:according to (?:the |a |an )?(?:\w+ )?{_DOC}|laut (?:dem |der |des )?(?:\w+ )?{_DOC}|"
    rf"{_DOC}(?: [\w.,-]+){{0,5}} (?:says|said|states|stated|requires|provides|stipulates|sets|governs|regulates|"
    r"obliges|keeps|mentions|notes|records|ends|regelt|sieht vor|besagt|verlangt|verpflichtet|schreibt vor|"
    r"legt fest|hält fest|vermerkt|erwähnt|endet|contains|includes|lists|names|enthält|nennt|führt auf)|"
    r"wrote|schrieb|told us|teilte mit|mitgeteilt)(?![\w-])",
    re.IGNORECASE)
# what a contract is: a sentence about it states what its clauses say ("nach § 2 des Rahmenvertrags übermittelt
# der Kunde …", "the contract sets a penalty of …")
PROVISION = rx(r"sets?", r"requires?", r"provides?", r"keeps?", r"runs?", r"stipulates?", r"caps?", r"capped",
               r"obliges?", r"entitles?", r"allows?", r"permits?", r"grants?", r"payable", r"terminable",
               r"gilt", r"gelten", r"regelt", r"sieht vor", r"verpflichtet", r"beträgt", r"vorsieht", r"läuft",
               r"zahlbar", r"kündbar", r"erlaubt", r"berechtigt", r"übermittelt", r"vereinbart", r"agreed",
               r"festgelegt", r"vorgesehen", r"specified", r"hält fest", r"sieht vor", r"besagt")
DOCUMENT = rx(r"contracts?", r"agreements?", r"NDA", r"clauses?", r"\w*[Vv]ertrag\w*", r"Rahmenvertrag\w*",
              r"Rahmenliefervertrag\w*", r"Klausel\w*", r"Vereinbarung\w*", r"Geheimhaltungsvereinbarung\w*",
              r"Nachtrag\w*", r"§\s*\d+")
HEDGE = rx(r"may", r"might", r"could", r"possibly", r"perhaps", r"considering", r"considers", r"is said",
           r"said to be", r"reportedly", r"allegedly", r"eventuell", r"möglicherweise", r"vielleicht", r"angeblich",
           r"prüft", r"überlegt", r"erwägt", r"droht", r"threaten\w*", r"soll (?:\S+ ){0,4}(?:sein|haben)",
           r"sollen (?:\S+ ){0,4}(?:sein|haben)")
# a plan or a promise is not the deed: a note saying "will send" or "Zahlung zugesagt" supports no "sent"/"paid"
PLANNED = inflected(r"will", r"shall", r"going to", r"plans? to", r"to be", r"soll\w*", r"wird", r"werden", r"plant",
             r"zugesagt", r"promised", r"agreed to", r"verspro\w*", r"angekündigt", r"announces?", r"kündigt an",
             r"bis (?:zum|spätestens|Ende)", r"by (?:the end|next)")
# how often something happens: a note that says "monthly" supports no "weekly"
FREQUENCY = rx(r"täglich\w*", r"wöchentlich\w*", r"monatlich\w*", r"quartalsweise\w*", r"vierteljährlich\w*",
               r"jährlich\w*", r"halbjährlich\w*", r"daily", r"weekly", r"monthly", r"quarterly", r"yearly",
               r"annually",
               r"half-yearly", r"biweekly", r"every (?:day|week|month|quarter|year)", r"jeden (?:Tag|Monat)",
               r"jede Woche", r"jedes (?:Quartal|Jahr)")
# "zu wenig Daten", "not enough data": why a rule has no value (its status, not a cause a note must give)
NO_DATA = rx(r"(?:zu )?wenig(?:e)? Daten", r"nicht genug Daten", r"keine Daten",
             r"(?:not enough|insufficient|too little|no) data",
             r"Datenbasis", r"data basis")
# a topic on an agenda is not a deed: "Topics: switch to returnable packaging" supports no "switched"
TOPIC = re.compile(r"(?<![\w-])(?:Topics?|Themen?|Agenda|Tagesordnung|discuss\w*|besprochen|diskutiert|talked about|"
                   r"covered|covers|behandelt|ging um|thematisiert|"
                   r"sprachen über|ging es um|angesprochen|raised the topic)(?![\w-])", re.IGNORECASE)
# a condition must be the source's: "nur, wenn wir 5 % nachlassen" needs a note that sets that condition
CONDITION = rx(r"only if", r"unless", r"provided that", r"on condition that", r"as long as", r"nur,? wenn",
               r"nur\b[^.;]{0,40}?\b(?:wenn|falls)", r"only\b[^.;]{0,40}?\bif", r"sofern", r"vorausgesetzt",
               r"unter der Bedingung", r"solange")
# the parties of a contract: a clause that puts a duty on the supplier says nothing of the customer's
PARTY = rx(r"customer'?s?", r"supplier'?s?", r"buyer'?s?", r"seller'?s?", r"recipient'?s?", r"discloser'?s?",
           r"Kunden?", r"Lieferanten?", r"Abnehmer\w*", r"Besteller\w*", r"Auftraggeber\w*", r"Auftragnehmer\w*",
           r"Empfänger\w*", r"Käufer\w*", r"Verkäufer\w*")
QUOTED = re.compile(r"[«“\"„]([^«»“”\"„]{4,}?)[»”\"“]")

# --- sentences that state nothing ---------------------------------------------------------------------------
# an opening or closing: accepted without a source (a small, fixed set)
COURTESY = re.compile(
    r"^(?:(?:here is|here's|here are|below is|this is) (?:the |a |an |what |my )?\w*(?: \w+){0,4}|"
    r"(?:i hope this helps|hope this helps|happy to help|glad to help|let me know if you need (?:more|anything else)"
    r"(?: details)?|feel free to ask(?: for more)?|thank you|thanks|sure|certainly|of course|in short|in summary|"
    r"summary|overview|to sum up|gern(?:e)?(?: geschehen)?|hier (?:ist|sind|die|eine) \w*(?: \w+){0,3}|"
    r"kurz zusammengefasst|zusammenfassung|überblick|fragen sie gern(?:e)? nach|melden sie sich gern(?:e)?"
    r"(?: bei fragen)?|bei fragen melden sie sich gern(?:e)?|ich hoffe,? das hilft(?: ihnen)?|"
    r"sprechen sie mich gern(?:e)? an|from the records|laut den daten|according to the records))"
    r"\s*(?:\(as of [^)]*\)|\(stand [^)]*\))?[.!:]?$", re.IGNORECASE)
# a question, a request or an offer states no fact: it needs no source (what it names is still checked)
REQUEST = re.compile(r"^(?:.*\?\s*$|(?:bitte|please|could you|can you|would you|shall we|let us|let's|können sie|"
                     r"könnten sie|würden sie|lassen sie uns|gern(?:e)? (?:stehe|bespreche|komme)|"
                     r"i would (?:like|suggest)|i suggest|i propose|ich schlage|ich würde|ich möchte|wir würden|"
                     r"we would|i look forward|ich freue mich|feel free|sprechen sie mich|melden sie sich|"
                     r"do let me know|let me know))", re.IGNORECASE)

# --- names ------------------------------------------------------------------------------------------------
HONORIFIC = re.compile(r"\b(?:Herrn?|Frau|Hr\.|Fr\.|Mr\.?|Mrs\.?|Ms\.?|Miss|Dr\.?|Prof\.?)\s+([A-ZÄÖÜ][\w'-]+)")
LEGAL_FORM = re.compile(
    r"\b((?:[A-ZÄÖÜ][\w&'-]*\s+){0,3}[A-ZÄÖÜ][\w&'-]*)\s+(GmbH(?: & Co\. KG)?|AG|SE|KG|KGaA|OHG|Ltd\.?|Limited|"
    r"Inc\.?|LLC|plc|PLC|S\.A\.|SA|S\.p\.A\.|S\.r\.l\.|s\.r\.o\.|a\.s\.|Sp\. z o\.o\.|Corp\.?|B\.V\.|N\.V\.|AB|Oy)"
    r"(?![\w])")
ACCOUNT_ID = re.compile(r"\bA-\d{5}\b")
# a person's role: "Stefan Schneider (purchasing)", "KAM Thomas Schneider", "Ansprechpartnerin für Qualität"
ROLES: dict[str, tuple[str, ...]] = {
    "kam": (r"KAM", r"key account manager\w*", r"Key-?Account-?Manager\w*", r"account manager"),
    "inside_sales": (r"inside sales", r"Innendienst\w*", r"sales assistant"),
    "purchasing": (r"purchasing", r"procurement", r"buyer", r"Einkauf\w*", r"Einkäufer\w*"),
    "logistics": (r"logistics", r"Logistik\w*", r"Disposition", r"scheduling"),
    "quality": (r"quality", r"Qualität\w*", r"QS", r"QA"),
    "finance": (r"accounting", r"finance", r"Buchhaltung", r"Finanz\w*", r"accounts payable"),
}
ROLE_PATTERNS = {role: rx(*names) for role, names in ROLES.items()}
# an id of a thing (invoice, order, escalation, opportunity, article): its facts are that thing's
THING_ID = re.compile(r"\b(?:A-\d{5}-[A-Z0-9-]+|\d{3}\.\d{4}-\d{2})\b")

# --- counts and numbers written as words ------------------------------------------------------------------
NUMBER_WORDS = {w: n for n, words in enumerate((
    (), ("one", "eins"), ("two", "zwei"), ("three", "drei"), ("four", "vier"), ("five", "fünf"), ("six", "sechs"),
    ("seven", "sieben"), ("eight", "acht"), ("nine", "neun"), ("ten", "zehn"), ("eleven", "elf"),
    ("twelve", "zwölf"), ("thirteen", "dreizehn"), ("fourteen", "vierzehn"), ("fifteen", "fünfzehn"),
    ("sixteen", "sechzehn"), ("seventeen", "siebzehn"), ("eighteen", "achtzehn"), ("nineteen", "neunzehn"),
    ("twenty", "zwanzig"))) for w in words}
NUMBER_WORD = re.compile(r"(?<![\w-])(" + "|".join(w for w in NUMBER_WORDS if w not in ("one", "eins")) +
                         r"|no|none|zero|null|keine?[nrs]?)(?![\w-])", re.IGNORECASE)
ZERO_WORDS = frozenset({"no", "none", "zero", "null", "kein", "keine", "keinen", "keiner", "keines"})
# "one open escalation", "eine offene Eskalation": one only before a count noun
ONE = re.compile(r"(?<![\w-])(one|only one|just one|a single|nur eine?[nrs]?|genau eine?[nrs]?|lediglich eine?[nrs]?|"
                 r"eine? einzige\w*)\s+(?:\w+\s+)?(?=(?:open\s+|offene\w*\s+|erkannte\w*\s+|identified\s+)?"
                 r"(?:escalation|breach|warning|invoice|order|opportunit|Eskalation|Verstoß|Regelverstoß|Warnung|"
                 r"Rechnung|Auftrag|Chance|Cross)\w*)", re.IGNORECASE)
# "ist eine Eskalation offen", "has overdue receivables": at least one (an existence, not a figure)
_OPEN = r"(?:open|offene\w*|overdue|überfällige\w*)"
EXISTS = re.compile(rf"(?<![\w-])(?:(?:a|an|some|several|ein|eine|einen|einer|einige\w*|mehrere\w*)\s+"
                    rf"(?=(?:{_OPEN}\s+)?(?:escalation|Eskalation|invoice|Rechnung)\w*)|"
                    rf"(?:has|have|hat|haben|there (?:is|are)|gibt es)\s+(?={_OPEN}\s+(?:escalations|Eskalationen|"
                    r"invoices|Rechnungen|receivables|Forderungen)))", re.IGNORECASE)
PREPOSITION = re.compile(r"^\s*(?:in|of|at|on|for|from|to|by|im|bei|von|vom|zu|zum|zur|für|auf|an|am|mit)\b",
                         re.IGNORECASE)
UNIT_WORDS = re.compile(r"^\s*-?\s*(days?|Tage[ns]?|weeks?|Wochen)(?![\w])", re.IGNORECASE)
FIGURE_UNIT = re.compile(r"^\s*-?\s*(?:%|Prozent\b|percent\b|per cent\b|pp\b|Prozentpunkte\w*|percentage points?|"
                         r"points?|€|EUR|USD|GBP|CHF|\$|£|Euro\b|Stück|Stk\.?|pcs|units?|Tage[ns]?|days?|Wochen|"
                         r"weeks?|Jahre[n]?|years?)", re.IGNORECASE)
