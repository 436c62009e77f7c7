// Die Ablehnungen der Team-Regeln (gesperrte Begriffe, Optionen und Suffix von /prefer).
import type { team as english } from "../en/team.ts";
import type { Translation } from "../types.ts";

export const team: Translation<typeof english> = {
  errors: {
    "ban-empty": "Gib ein Wort an oder ein Muster in der Form /Muster/.",
    "word-too-long": "Ein gesperrtes Wort darf höchstens {{limit}} Zeichen lang sein.",
    "word-multiline": "Ein gesperrtes Wort muss in eine Zeile passen.",
    "pattern-empty": "Das Muster zwischen den Schrägstrichen ist leer.",
    "pattern-too-long": "Ein Muster darf höchstens {{limit}} Zeichen lang sein.",
    "pattern-flags": "Nicht unterstütztes Muster-Flag {{flags}}: Erlaubt sind nur i, m, s und u.",
    "pattern-invalid": "Dieses Muster lässt sich nicht kompilieren: {{detail}}",
    "pattern-unsupported":
      "Dieses Muster verwendet {{feature}}, was gesperrte Muster nicht können: Sie werden von RE2 geprüft, das bei keinem Prompt hängen bleibt, aber weder Rückverweise (\\1, \\k<name>) noch Lookarounds ((?=…), (?!…), (?<=…), (?<!…)) kennt. Schreib es ohne um.",
    "pattern-matches-empty": "Dieses Muster passt auf einen leeren Prompt und würde damit alles sperren.",
    "option-name-shape":
      "Ein Optionsname beginnt mit einem Buchstaben und enthält nur Buchstaben, Ziffern, - und _ (z. B. `wide`)",
    "option-name-too-long": "Ein Optionsname hat höchstens {{limit}} Zeichen",
    "option-name-taken":
      "{{option}} ist ein Midjourney-Parameter; wähle einen anderen Namen, damit der Parameter weiter funktioniert",
    "option-value-invalid": "{{option}} kann nicht zu {{value}} werden: {{cause}}",
    "too-many-options_one": "Du hast schon {{count}} Option, mehr geht nicht; lösche sie zuerst",
    "too-many-options_other": "Du hast schon {{count}} Optionen, mehr geht nicht; lösche zuerst eine",
    "no-such-option": "Du hast keine Option {{option}}",
    "suffix-invalid": "Das Suffix {{suffix}} ist ungültig: {{cause}}",
  },
  phrases: {
    feature: {
      backreference: "einen Rückverweis {{escape}}",
      namedBackreference: "einen benannten Rückverweis \\k<…>",
      lookbehind: "ein Lookbehind (?<=…)",
      negativeLookbehind: "ein negatives Lookbehind (?<!…)",
      lookahead: "ein Lookahead (?=…)",
      negativeLookahead: "ein negatives Lookahead (?!…)",
    },
  },
};
