// Ce que disent les tâches : les erreurs enregistrées sur une tâche et les refus (❌ Annuler, file d'attente).
import type { jobs as english } from "../en/jobs.ts";
import type { Translation } from "../types.ts";

const tryAgain = "Réessayez ; si cela se reproduit, prévenez un administrateur.";
const fetchFailed = "Atelier n'a pas pu récupérer une image à envoyer au service d'images :";
const waitForSome = "attendez que certaines se terminent avant d'en lancer d'autres.";

export const jobs: Translation<typeof english> = {
  texts: {
    "cancelled-waiting": "Annulée par {{user}} avant de démarrer.",
    "cancelled-running": "Annulée par {{user}} pendant son exécution.",
    "cancelled-at-service": "La tâche a été annulée avant d'être terminée.",
    "failed-without-reason": "Le service d'images a signalé un échec sans en donner la raison.",
    "timed-out": `Le service d'images n'a pas terminé en {{duration}}. ${tryAgain}`,
    "timed-out-at": `Le service d'images n'a pas terminé en {{duration}} (dernière progression vue : {{progress}} %). ${tryAgain}`,
    "source-fetch": `${fetchFailed} {{problem}}`,
    "source-fetch-unset": `${fetchFailed} cet Atelier n'est pas configuré pour récupérer les images de /blend et /décrire.`,
    internal:
      "Une erreur s'est produite dans Atelier pendant cette tâche. Prévenez un administrateur ; le journal contient les détails.",
    "maybe-sent":
      "Atelier a redémarré pendant l'envoi de cette tâche : elle a peut-être démarré, peut-être pas. Elle n'a pas été renvoyée, pour ne pas payer deux fois : appuyez sur 🔄 pour la relancer.",
    "no-descriptions": "Le service d'images a fini de décrire l'image, mais n'a proposé aucun prompt.",
    "no-image-to-describe": "Il n'y a aucune image à décrire.",
    "cannot-blend": "Le service d'images {{provider}} ne sait pas mélanger des images.",
    "cannot-describe": "Le service d'images {{provider}} ne sait pas décrire des images.",
    "parent-unknown": "Atelier ne connaît plus l'image à laquelle appartient ce bouton.",
    "stored-prompt-unreadable": "Le prompt enregistré ne peut plus être lu : {{problem}}",
    "provider-gone":
      "Cette tâche appartient au service d'images « {{provider}} », qui n'est plus configuré. Prévenez un administrateur.",
    "host-timed-out": "Les images ont été créées, mais leur hébergeur n'a pas répondu en {{duration}}.",
    unfetched:
      "Les images ont été créées, mais Atelier n'a pas pu les récupérer auprès du service d'images : {{problem}}",
    "already-finished": "Cette tâche est déjà terminée.",
    "not-requester": "Seule la personne qui l'a demandée, {{user}}, peut annuler cette tâche.",
    "being-sent":
      "Cette tâche est déjà en cours d'envoi au service d'images ; elle ne peut plus être annulée.",
    "cannot-stop": "Le service d'images ne peut pas arrêter une tâche une fois qu'elle a démarré.",
    "not-stopped": "Le service d'images ne l'a pas annulée : {{problem}}",
    "queue-over-limit_one":
      "Cela mettrait {{count}} tâche en attente, mais vous ne pouvez pas en avoir plus de {{limit}} en attente à la fois. Demandez-en moins.",
    "queue-over-limit_other":
      "Cela mettrait {{count}} tâches en attente, mais vous ne pouvez pas en avoir plus de {{limit}} en attente à la fois. Demandez-en moins.",
    "queue-over-limit_many":
      "Cela mettrait {{count}} de tâches en attente, mais vous ne pouvez pas en avoir plus de {{limit}} en attente à la fois. Demandez-en moins.",
    "queue-full_one": `Vous avez {{count}} tâche en attente ; ${waitForSome}`,
    "queue-full_other": `Vous avez {{count}} tâches en attente ; ${waitForSome}`,
    "queue-full_many": `Vous avez {{count}} de tâches en attente ; ${waitForSome}`,
    "queue-full-adding_one": `Vous avez {{count}} tâche en attente et cela en ajouterait {{adding}} (au plus {{limit}} en attente) ; ${waitForSome}`,
    "queue-full-adding_other": `Vous avez {{count}} tâches en attente et cela en ajouterait {{adding}} (au plus {{limit}} en attente) ; ${waitForSome}`,
    "queue-full-adding_many": `Vous avez {{count}} de tâches en attente et cela en ajouterait {{adding}} (au plus {{limit}} en attente) ; ${waitForSome}`,
    "database-away":
      "Atelier ne peut pas joindre sa base de données pour le moment : il ne prend pas de nouvelles tâches. Réessayez dans une minute ; les tâches déjà lancées sont conservées.",
  },
  phrases: {
    duration: {
      seconds_one: "{{count}} seconde",
      seconds_other: "{{count}} secondes",
      seconds_many: "{{count}} de secondes",
      minutes_one: "{{count}} minute",
      minutes_other: "{{count}} minutes",
      minutes_many: "{{count}} de minutes",
    },
  },
};
