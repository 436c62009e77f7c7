// Was Aufträge sagen: die Fehler, die an einem Auftrag gespeichert werden, und die Absagen (❌ Abbrechen, Warteschlange).
import type { jobs as english } from "../en/jobs.ts";
import type { Translation } from "../types.ts";

const tryAgain = "Versuche es noch einmal; wenn das öfter passiert, sag einem Admin Bescheid.";
const fetchFailed = "Atelier konnte ein Bild für den Bilddienst nicht abrufen:";
const waitForSome = "warte, bis einige fertig sind, bevor du weitere startest.";

export const jobs: Translation<typeof english> = {
  texts: {
    "cancelled-waiting": "Von {{user}} abgebrochen, bevor er begonnen hat.",
    "cancelled-running": "Von {{user}} abgebrochen, während er lief.",
    "cancelled-at-service": "Der Auftrag wurde abgebrochen, bevor er fertig war.",
    "failed-without-reason": "Der Bilddienst hat einen Fehler ohne Begründung gemeldet.",
    "timed-out": `Der Bilddienst ist nicht innerhalb von {{duration}} fertig geworden. ${tryAgain}`,
    "timed-out-at": `Der Bilddienst ist nicht innerhalb von {{duration}} fertig geworden (zuletzt bei {{progress}} %). ${tryAgain}`,
    "source-fetch": `${fetchFailed} {{problem}}`,
    "source-fetch-unset": `${fetchFailed} Dieses Atelier ist nicht dafür eingerichtet, Bilder für /blend und /beschreiben abzurufen.`,
    internal:
      "Bei diesem Auftrag ist in Atelier etwas schiefgelaufen. Sag einem Admin Bescheid; im Log stehen die Details.",
    "maybe-sent":
      "Atelier wurde neu gestartet, während dieser Auftrag gesendet wurde; er hat also vielleicht begonnen, vielleicht auch nicht. Er wurde nicht noch einmal gesendet, damit nicht doppelt bezahlt wird: Drücke 🔄, um ihn erneut auszuführen.",
    "no-descriptions": "Der Bilddienst hat das Bild beschrieben, aber keine Prompts vorgeschlagen.",
    "no-image-to-describe": "Es gibt kein Bild zum Beschreiben.",
    "cannot-blend": "Der Bilddienst {{provider}} kann keine Bilder mischen.",
    "cannot-describe": "Der Bilddienst {{provider}} kann keine Bilder beschreiben.",
    "parent-unknown": "Atelier kennt das Bild, zu dem dieser Button gehört, nicht mehr.",
    "stored-prompt-unreadable": "Der gespeicherte Prompt lässt sich nicht mehr lesen: {{problem}}",
    "provider-gone":
      "Dieser Auftrag gehört zum Bilddienst „{{provider}}“, der nicht mehr eingerichtet ist. Sag einem Admin Bescheid.",
    "host-timed-out":
      "Die Bilder wurden erstellt, aber ihr Host hat nicht innerhalb von {{duration}} geantwortet.",
    unfetched:
      "Die Bilder wurden erstellt, aber Atelier konnte sie nicht vom Bilddienst abrufen: {{problem}}",
    "already-finished": "Dieser Auftrag ist schon beendet.",
    "not-requester": "Nur {{user}} kann diesen Auftrag abbrechen.",
    "being-sent":
      "Dieser Auftrag wird gerade an den Bilddienst gesendet; er kann jetzt nicht mehr abgebrochen werden.",
    "cannot-stop": "Der Bilddienst kann einen Auftrag nicht mehr stoppen, sobald er begonnen hat.",
    "not-stopped": "Der Bilddienst hat ihn nicht abgebrochen: {{problem}}",
    "queue-over-limit_one":
      "Damit käme {{count}} Auftrag in die Warteschlange, aber höchstens {{limit}} von deinen dürfen gleichzeitig warten. Fordere weniger an.",
    "queue-over-limit_other":
      "Damit kämen {{count}} Aufträge in die Warteschlange, aber höchstens {{limit}} von deinen dürfen gleichzeitig warten. Fordere weniger an.",
    "queue-full_one": `Du hast {{count}} wartenden Auftrag; ${waitForSome}`,
    "queue-full_other": `Du hast {{count}} wartende Aufträge; ${waitForSome}`,
    "queue-full-adding_one": `Du hast {{count}} wartenden Auftrag, und damit kämen {{adding}} dazu (höchstens {{limit}} dürfen warten); ${waitForSome}`,
    "queue-full-adding_other": `Du hast {{count}} wartende Aufträge, und damit kämen {{adding}} dazu (höchstens {{limit}} dürfen warten); ${waitForSome}`,
    "database-away":
      "Atelier erreicht seine Datenbank gerade nicht und nimmt deshalb keine neuen Aufträge an. Versuche es in einer Minute noch einmal; bereits gestartete Aufträge bleiben erhalten.",
  },
  phrases: {
    duration: {
      seconds_one: "{{count}} Sekunde",
      seconds_other: "{{count}} Sekunden",
      minutes_one: "{{count}} Minute",
      minutes_other: "{{count}} Minuten",
    },
  },
};
