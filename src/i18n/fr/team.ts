// Les refus des règles d'équipe (mots bannis, options et suffixe de /prefer).
import type { team as english } from "../en/team.ts";
import type { Translation } from "../types.ts";

export const team: Translation<typeof english> = {
  errors: {
    "ban-empty": "Donnez un mot, ou un motif écrit sous la forme /motif/.",
    "word-too-long": "Un mot banni fait au plus {{limit}} caractères.",
    "word-multiline": "Un mot banni doit tenir sur une seule ligne.",
    "pattern-empty": "Le motif entre les barres obliques est vide.",
    "pattern-too-long": "Un motif fait au plus {{limit}} caractères.",
    "pattern-flags": "Drapeau de motif non pris en charge : {{flags}} ; utilisez seulement i, m, s ou u.",
    "pattern-invalid": "Ce motif ne compile pas : {{detail}}",
    "pattern-unsupported":
      "Ce motif utilise {{feature}}, ce que les motifs bannis ne permettent pas : ils sont évalués par RE2, qui ne bloque jamais sur un prompt mais ne connaît ni les références arrière (\\1, \\k<name>) ni les assertions avant ou arrière ((?=…), (?!…), (?<=…), (?<!…)). Réécrivez-le sans.",
    "pattern-matches-empty": "Ce motif correspond à un prompt vide : il bannirait tout.",
    "option-name-shape":
      "Un nom d'option commence par une lettre et ne contient que des lettres, des chiffres, - et _ (par ex. `wide`)",
    "option-name-too-long": "Un nom d'option fait au plus {{limit}} caractères",
    "option-name-taken":
      "{{option}} est un paramètre Midjourney ; choisissez un autre nom pour que le paramètre continue de fonctionner",
    "option-value-invalid": "{{option}} ne peut pas devenir {{value}} : {{cause}}",
    "too-many-options_one": "Vous avez déjà {{count}} option, le maximum ; supprimez-la d'abord",
    "too-many-options_other": "Vous avez déjà {{count}} options, le maximum ; supprimez-en une d'abord",
    "too-many-options_many": "Vous avez déjà {{count}} d'options, le maximum ; supprimez-en une d'abord",
    "no-such-option": "Vous n'avez pas d'option {{option}}",
    "suffix-invalid": "Le suffixe {{suffix}} n'est pas valide : {{cause}}",
  },
  phrases: {
    feature: {
      backreference: "une référence arrière {{escape}}",
      namedBackreference: "une référence arrière nommée \\k<…>",
      lookbehind: "une assertion arrière (?<=…)",
      negativeLookbehind: "une assertion arrière négative (?<!…)",
      lookahead: "une assertion avant (?=…)",
      negativeLookahead: "une assertion avant négative (?!…)",
    },
  },
};
