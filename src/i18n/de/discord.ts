import type { discord as english } from "../en/discord.ts";
import type { Translation } from "../types.ts";

export const discord: Translation<typeof english> = {
  status: {
    waiting: "Wartet auf den Start",
    queued_one: "In der Warteschlange — {{count}} davor",
    queued_other: "In der Warteschlange — {{count}} davor",
    failed: "fehlgeschlagen",
    cancelled: "abgebrochen",
  },
  speed: {
    draft: "Entwurf",
    fast: "schnell",
    turbo: "Turbo",
    relax: "entspannt",
  },
  byline: {
    upscaled: "Hochskaliert ({{style}}) von {{user}}",
    upscaleStyle: { subtle: "dezent", creative: "kreativ" },
    image: "Bild Nr. {{index}} {{user}}",
    variations: "Variationen von {{user}}",
    command: "/{{command}} von {{user}}",
  },
  button: {
    varySubtle: "Variieren (dezent)",
    varyStrong: "Variieren (stark)",
    upscaleSubtle: "Hochskalieren (dezent)",
    upscaleCreative: "Hochskalieren (kreativ)",
    hd: "In HD ausführen",
    openFullSize: "In voller Größe öffnen",
    zoom2: "Herauszoomen 2x",
    zoom15: "Herauszoomen 1,5x",
    square: "Quadratisch machen",
    cancel: "Abbrechen",
  },
  error: {
    title: {
      refused: "Prompt abgelehnt",
      invalid: "Der Bilddienst konnte das nicht ausführen",
      auth: "Der Bilddienst hat Ateliers Zugangsdaten abgelehnt",
      quota: "Das Konto beim Bilddienst hat kein Guthaben mehr",
      transient: "Der Bilddienst hatte ein Problem",
      timeout: "Der Bilddienst hat zu lange gebraucht",
      internal: "Etwas ist schiefgelaufen",
      cancelled: "Auftrag abgebrochen",
    },
    advice: {
      retry: "Drücke 🔄, um es noch einmal zu versuchen.",
      rephrase: "Ändere den Prompt und versuche es noch einmal.",
      admin: "Sag einem Admin dieses Servers Bescheid.",
    },
    reason: "Grund: **{{reason}}**",
    whatToDo: "**Was tun:** {{advice}}",
  },
  warning: {
    unsupported: "{{feature}} weggelassen (hier nicht unterstützt)",
    unsupportedBecause: "{{feature}} weggelassen: {{details}}",
    moved: "{{feature}} aus dem Prompt genommen",
    movedInto: "{{feature}} aus dem Prompt in {{details}} verschoben",
    changed: "{{feature}} geändert",
    changedBecause: "{{feature}} geändert: {{details}}",
  },
  help: {
    intro: "**Atelier** — der Midjourney-Ablauf auf diesem Server.",
    usage:
      "`/imagine prompt:…` erstellt ein 2×2-Raster: **U1–U4** ein Bild, **V1–V4** Variationen, **🔄** noch einmal. `/einstellungen` deine Standardwerte, `/prefer` dein Suffix und deine Optionen, `/info` deine Nutzung und letzten Aufträge, `/show` zeigt einen davon erneut.",
    services:
      "Bilddienste hier: {{names}} (wähle deinen in /einstellungen oder hänge `--provider NAME` an einen Prompt an).",
    service: "Bilddienst: `{{name}}`.",
    notes:
      "Parameter, die andere Dienste als Midjourney nicht umsetzen können, werden unter dem Prompt vermerkt und nie stillschweigend verworfen.",
    parameters: "**Parameter:**",
    parameter: {
      ar: "Seitenverhältnis, Standard 1:1",
      v: "Modellversion",
      niji: "Version des Anime-Modells",
      style: "Stilvorgabe wie raw",
      stylize: "Stärke des Midjourney-Looks, Standard 100",
      chaos: "Vielfalt zwischen den Bildern, Standard 0",
      weird: "Schrägheit",
      exp: "experimentelle Ästhetik",
      quality: "Renderzeit; erlaubte Werte hängen von der Version ab",
      seed: "Start-Rauschen",
      stop: "früher aufhören (%)",
      tile: "nahtlos wiederholbares Muster",
      iw: "Gewicht des Bild-Prompts",
      sref: "Stilreferenz: Bild-URLs, Stilcodes oder random",
      sw: "Gewicht der Stilreferenz, Standard 100",
      sv: "Modell der Stilreferenz",
      cref: "URLs von Charakter-Referenzbildern",
      cw: "Charaktergewicht: 0 nur das Gesicht, 100 der ganze Charakter",
      oref: "URL des Omni-Referenzbilds",
      ow: "Gewicht der Omni-Referenz",
      p: "Personalisierungscodes",
      draft: "billige schnelle Skizzen",
      hd: "native 2K-Ausgabe",
      fast: "schneller Modus für diesen Auftrag",
      relax: "entspannter Modus für diesen Auftrag",
      turbo: "Turbomodus für diesen Auftrag",
      stealth: "das Ergebnis in der öffentlichen Galerie verbergen",
      public: "das Ergebnis in der öffentlichen Galerie zeigen",
      repeat: "den Prompt n-mal ausführen",
      no: "Dinge, die wegbleiben sollen, durch Kommas getrennt",
      provider:
        "Ateliers eigener: welcher konfigurierte Bilddienst diesen Prompt ausführt (z. B. --provider openai)",
    },
  },
  reply: {
    invalidPrompt: "**Ungültiger Prompt** — {{problem}}",
    restarting: "Atelier startet neu. Versuche es gleich noch einmal.",
    unknownJob:
      "Atelier kennt den Auftrag hinter dieser Schaltfläche nicht mehr (sein Datensatz ist weg). Führe den Prompt mit /imagine erneut aus.",
    unsupportedCommand:
      "**/{{command}} ist nicht verfügbar** — der Bilddienst dieses Bots ({{provider}}) kann das nicht, daher bietet Atelier den Befehl nicht mehr an.",
    failure:
      "Bei der Bearbeitung ist in Atelier etwas schiefgelaufen. Sag einem Admin Bescheid; im Log stehen die Details.",
    notFinished: "Dieser Auftrag ist noch nicht fertig.",
    noImage: "Dieser Satz hat kein Bild Nr. {{index}}.",
    noDescription: "Diese Beschreibung hat keinen Prompt Nr. {{index}}.",
    noProviderButton: "Der Bilddienst bietet diese Schaltfläche nicht mehr an.",
  },
  refusal: {
    channel: "**Nicht in diesem Kanal** — Admins erlauben Atelier nur in {{channels}}.",
    buttonsOwner:
      "**Nicht dein Auftrag** — hier kann nur die Person, die einen Auftrag gestartet hat, seine Schaltflächen benutzen. Starte deinen eigenen mit /imagine.",
    buttonsRoles:
      "**Nicht dein Auftrag** — hier können nur Mitglieder mit {{roles}} Schaltflächen an Aufträgen anderer benutzen.",
    anAllowedRole: "einer erlaubten Rolle",
    offender:
      "**Pausiert zur Moderation** — der Bilddienst hat mehrere deiner Prompts abgelehnt; du kannst {{relative}} ({{time}}) wieder Aufträge starten.",
    banned:
      "**Verbotener Prompt** — das Wort `{{term}}` ist hier nicht erlaubt. Ändere den Prompt und versuche es noch einmal.",
    cooldown:
      "**Wartezeit** — hier ein Auftrag alle {{seconds}} s pro Person. Versuche es {{relative}} noch einmal.",
    userDaily:
      "**Tageslimit erreicht** — du kannst hier {{limit}} Aufträge pro Tag starten und hast heute {{used}} gestartet{{adding}}. Das Limit wird {{relative}} zurückgesetzt ({{date}}, Mitternacht UTC).",
    guildDaily:
      "**Tageslimit des Servers erreicht** — dieser Server kann {{limit}} Aufträge pro Tag starten und hat heute {{used}} gestartet{{adding}}. Das Limit wird {{relative}} zurückgesetzt ({{date}}, Mitternacht UTC).",
    adding: " (diese Anfrage käme auf {{count}} mehr)",
  },
  attachments: {
    count_one: "**/{{command}} nimmt {{wanted}} Bild** — du hast {{attached}} angehängt.",
    count_other: "**/{{command}} nimmt {{wanted}} Bilder** — du hast {{attached}} angehängt.",
    range: "{{min}} bis {{max}}",
    notImage:
      "**Kein Bild, das Atelier verwenden kann** — `{{name}}` ist kein PNG-, JPEG-, WebP- oder GIF-Bild.",
    linkRefused:
      "**Bildlink abgelehnt** — angehängte Bilder müssen von öffentlichen https-Links kommen; `{{name}}` {{problem}}.",
  },
  remix: {
    rerollTitle: "Remix: noch einmal",
    varyImageTitle: "Remix: Bild {{index}} variieren",
    varyTitle: "Remix: variieren",
    promptLabel: "Prompt",
    promptHint: "Bearbeite den Prompt; die neuen Bilder folgen dem, was du absendest.",
    tooLong:
      "Dieser Prompt ist länger als die {{limit}} Zeichen, die ein Discord-Formular fasst, und kann daher nicht geremixt werden. Schalte den Remix-Modus in /einstellungen aus, um diese Schaltfläche so zu benutzen.",
    oneSet: "Ein Remix erstellt einen einzigen Bildersatz: entferne die {…}-Permutationen und --repeat",
    stale: "Diese Schaltfläche kann nicht mehr geremixt werden. Klicke sie noch einmal an.",
  },
  settings: {
    heading: "**Deine Einstellungen** — Standardwerte für deine Prompts; was ein Prompt sagt, hat Vorrang.",
    staleButton:
      "Diese Einstellungsschaltfläche stammt aus einem älteren Atelier. Führe /einstellungen erneut aus.",
    stylizeLevel: { low: "niedrig", med: "mittel", high: "hoch", veryHigh: "sehr hoch" },
    speedMode: {
      draft: "Entwurfsmodus",
      fast: "Schneller Modus",
      turbo: "Turbomodus",
      relax: "Entspannter Modus",
    },
    stylizeButton: "Stilisierung {{level}}",
    rawButton: "RAW-Modus",
    hdButton: "HD",
    highVariationButton: "Starke Variation",
    lowVariationButton: "Dezente Variation",
    remixButton: "Remix-Modus",
    resetButton: "Zurücksetzen",
    on: "an",
    off: "aus",
    provider: "Bilddienst **{{name}}**",
    model: "Modell **{{name}}**",
    stylize: "Stilisierung **{{level}}** (--stylize {{value}})",
    raw: "Raw **{{state}}**",
    speed: "Tempo **{{speed}}**",
    speedName: { draft: "Entwurf", fast: "schnell", turbo: "Turbo", relax: "entspannt" },
    quality: "Qualität **{{quality}}**",
    variation: "Variation **{{strength}}**",
    strength: { strong: "stark", subtle: "dezent" },
    remix: "Remix **{{state}}**",
    suffix: "Suffix `{{suffix}}`",
    noSuffix: "Kein Suffix",
    options: "Optionen {{names}}",
    noOptions: "keine eigenen Optionen",
    preferLine: "-# {{suffix}} · {{options}} (ändern mit /prefer)",
  },
};
