"""Templates for demo CRM notes, written the way KAMs write them (terse, German or English).

Kept apart from the generator so the wording can grow without touching the data logic. Placeholders are
filled with the account's own facts, so a note never contradicts the numbers next to it.
"""

from __future__ import annotations

# topic -> language -> templates
NOTE_TEMPLATES: dict[str, dict[str, list[str]]] = {
    "visit": {
        "de": [
            "Besuch bei {contact} ({role}) in {city}. Werksrundgang, Linie für {part} läuft stabil. "
            "Kunde zufrieden mit Qualität, wünscht aber kürzere Reaktionszeiten bei Änderungen.",
            "Jahresgespräch mit {contact}. Themen: Abrufverhalten, Forecast-Qualität, Verpackungsumstellung "
            "auf Mehrweg. Nächster Termin im {next_month}.",
        ],
        "en": [
            "Visited {contact} ({role}) in {city}. Plant tour, line for {part} running stable. "
            "Customer happy with quality but asks for faster response on engineering changes.",
            "Annual review with {contact}. Topics: call-off behaviour, forecast quality, switch to "
            "returnable packaging. Next meeting in {next_month}.",
        ],
    },
    "price": {
        "de": [
            "Preisgespräch mit Einkauf ({contact}): Kunde fordert {pct} % Preisreduktion auf {part} ab "
            "{next_month}. Auf gestiegene Material- und Energiekosten verwiesen; Rücksprache mit Head of "
            "Sales zugesagt, keine Zusage gemacht.",
            "{contact} kündigt Ausschreibung für {part} an, Wettbewerber aus Osteuropa angeblich "
            "{pct} % günstiger. Wir halten den Preis, bieten Konsignationslager als Mehrwert an.",
        ],
        "en": [
            "Price talk with purchasing ({contact}): customer asks for a {pct} % price reduction on {part} "
            "from {next_month}. Pointed to higher material and energy costs; promised to check with the "
            "Head of Sales, nothing committed.",
            "{contact} announces a tender for {part}; a competitor is said to be {pct} % cheaper. We hold "
            "the price and offer a consignment stock as added value.",
        ],
    },
    "forecast": {
        "de": [
            "Forecast-Call mit {contact} (Disposition). Bedarf {part} für die nächsten drei Monate "
            "bestätigt, leichte Verschiebung in den {next_month}. Kunde sagt Abrufe nach Plan zu.",
            "Abstimmung Abrufplan {part}: Kunde ruft weniger ab als geplant, Grund ist schwache Nachfrage "
            "beim Endkunden. Plan soll im {next_month} angepasst werden.",
        ],
        "en": [
            "Forecast call with {contact} (logistics). Demand for {part} confirmed for the next three "
            "months, slight shift into {next_month}. Customer commits to call off as planned.",
            "Call-off plan review for {part}: customer calls off less than planned due to weak end-market "
            "demand. Plan to be adjusted in {next_month}.",
        ],
    },
    "late_delivery": {
        "de": [
            "Lieferverzug {part}: Lieferung kam {days} Tage nach Zusage, Band beim Kunden kurz vor "
            "Stillstand. {contact} sehr verärgert. Ursache Kapazitätsengpass Härterei; Sonderfahrt "
            "organisiert, 8D-Report angefordert.",
            "Reklamation {contact}: Teillieferung {part}, Restmenge {days} Tage später. Kunde erwartet "
            "Maßnahmenplan bis Monatsende.",
        ],
        "en": [
            "Late delivery {part}: shipment arrived {days} days after the promised date, customer line "
            "close to stopping. {contact} very unhappy. Root cause capacity bottleneck in heat treatment; "
            "organised a special transport, 8D report requested.",
            "Complaint from {contact}: partial delivery of {part}, remaining quantity {days} days later. "
            "Customer expects an action plan by month end.",
        ],
    },
    "lead": {
        "de": [
            "Neues Projekt: Kunde plant neue Plattform, Bedarf ca. {qty} Stück pro Jahr, SOP {year}. "
            "{contact} schickt Anfrage (RFQ) im {next_month}. Cross-Selling-Chance für Dichtungen.",
            "{contact} erwähnt Verlagerung einer Baugruppe aus Asien nach Europa. Wir sollen bis "
            "{next_month} ein Konzept für {part}-Varianten vorlegen.",
        ],
        "en": [
            "New project lead: customer plans a new platform, about {qty} pieces a year, SOP {year}. "
            "{contact} will send the RFQ in {next_month}. Cross-sell chance for seals.",
            "{contact} mentions moving an assembly from Asia to Europe. We are to present a concept for "
            "{part} variants by {next_month}.",
        ],
    },
    "finance": {
        "de": [
            "Telefonat Buchhaltung ({contact}): offene Rechnungen besprochen, Zahlung zugesagt. "
            "Kunde bittet um Verlängerung des Zahlungsziels, an Finance weitergegeben.",
        ],
        "en": [
            "Call with accounts payable ({contact}): went through open invoices, payment promised. "
            "Customer asks for longer payment terms, passed on to finance.",
        ],
    },
}

CITIES = {
    "DE": ["Stuttgart", "München", "Wolfsburg", "Ingolstadt", "Köln", "Nürnberg", "Bremen"],
    "AT": ["Graz", "Linz", "Wien"],
    "CH": ["Zürich", "Basel", "Winterthur"],
    "US": ["Detroit", "Chicago", "Spartanburg"],
    "GB": ["Birmingham", "Coventry", "Sunderland"],
    "FR": ["Lyon", "Sochaux", "Rennes"],
    "PL": ["Poznań", "Wrocław", "Gliwice"],
    "CZ": ["Mladá Boleslav", "Plzeň", "Brno"],
    "IT": ["Torino", "Modena", "Brescia"],
}

COMPANY_STEMS = [
    "Albrecht", "Brenner", "Castell", "Dornier", "Eberhard", "Falkner", "Gerster", "Hollmann", "Imhof",
    "Jansen", "Kessler", "Lindner", "Moser", "Nordmann", "Oberle", "Pfister", "Quandt", "Reinhold",
    "Seidel", "Trautmann", "Ullrich", "Vogel", "Winkler", "Zeller", "Ashford", "Blackwood", "Carver",
    "Dalton", "Everett", "Fairbanks", "Granger", "Hawthorne", "Kingsley", "Lancaster", "Mercer",
]
COMPANY_SUFFIXES = {  # legal forms that fit the country
    "DE": ["Automotive GmbH", "Antriebstechnik AG", "Fahrzeugteile GmbH", "Hydraulik GmbH", "Mobility SE"],
    "AT": ["Fahrzeugtechnik GmbH", "Komponenten AG"],
    "CH": ["Präzisionsteile AG", "Mechanik AG"],
    "US": ["Industries Inc.", "Manufacturing LLC"],
    "GB": ["Systems Ltd", "Engineering plc"],
    "FR": ["Technologies SAS", "Industrie SA"],
    "PL": ["Komponenty Sp. z o.o.", "Automotive S.A."],
    "CZ": ["Components s.r.o.", "Strojírny a.s."],
    "IT": ["Engineering S.p.A.", "Componenti S.r.l."],
}
FIRST_NAMES = {
    "de": ["Anna", "Jonas", "Katrin", "Markus", "Sabine", "Thomas", "Julia", "Stefan", "Petra", "Lukas"],
    "en": ["Emma", "James", "Olivia", "William", "Sophie", "Daniel", "Grace", "Michael", "Laura", "David"],
}
LAST_NAMES = {
    "de": ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Wagner", "Becker", "Hoffmann", "Koch"],
    "en": ["Smith", "Johnson", "Brown", "Taylor", "Wilson", "Clark", "Walker", "Hall", "Young"],
}
PRODUCT_GROUPS = {
    "fasteners": ["Schraube M8x40 verzinkt", "Sechskantmutter M10", "Gewindebolzen M12"],
    "seals": ["Radialwellendichtring 45x62x8", "O-Ring 32x3 FKM", "Flachdichtung Ölwanne"],
    "bearings": ["Rillenkugellager 6205", "Nadelhülse HK2016", "Gleitlagerbuchse 20x23x15"],
    "stampings": ["Halteblech links", "Montagewinkel verzinkt", "Abschirmblech Abgas"],
    "machined_parts": ["Ventilgehäuse Alu", "Welle Ø25 gehärtet", "Flansch DN50"],
}
