# Les mots de la console en français (SPEC §9, Language). Chaque identifiant est aussi dans
# en.ftl : un test échoue quand une langue n'a pas un message que l'autre a.

language-name = Français
page-title = Appels manqués · ringback
sign-out = Se déconnecter
restaurant = Restaurant
language = Langue

## Page de connexion

login-title = Connexion · ringback
login-tagline = Les appels manqués et les messages WhatsApp qui les ont suivis.
login-username = Identifiant
login-password = Mot de passe
login-submit = Se connecter

## Filtres

filter-from = Du
filter-to = Au
filter-caller = Numéro de l'appelant
filter-caller-example = ex. 06 12 34 56 78
filter-status = Statut
filter-status-hint = — aucun coché : tous
filter-apply = Appliquer les filtres
filter-reset = Réinitialiser
export-csv = Télécharger le CSV

## Statuts : les libellés du journal, des filtres et du CSV

status-SENT = Envoyé
status-SKIPPED_COOLDOWN = Délai de repos
status-SKIPPED_SUPPRESSED = Désinscrit
status-SKIPPED_NO_WHATSAPP = Pas de WhatsApp
status-SKIPPED_NO_TEMPLATE = Pas de modèle
status-SKIPPED_HIDDEN_NUMBER = Numéro masqué
status-SKIPPED_LOW_BALANCE = Solde insuffisant
status-SKIPPED_FEATURE_DISABLED = Fonction désactivée
status-SKIPPED_STALE = Trop ancien
status-UNDELIVERABLE = Non distribuable
status-FAILED = Échec
status-DISPATCHING = En cours
status-SKIPPED_DUPLICATE = Doublon

template-MISSED_CALL = Appel manqué
template-MISSED_CALL_WITH_RESERVATION = Avec réservation

delivery-sent = Envoyé
delivery-delivered = Distribué
delivery-read = Lu
delivery-failed = Échec

## Indicateurs et graphique

summary = Résumé
period = { $from } – { $to }
indicator-missed_calls = Appels manqués
indicator-missed_calls-hint = appels restés sans réponse
indicator-messages_sent = Messages envoyés
indicator-messages_sent-hint = relances WhatsApp
indicator-booking_conversions = Réservations
indicator-booking_conversions-hint = faites après un message
indicator-conversion_rate = Conversion
indicator-conversion_rate-hint = réservations par message envoyé
chart-title = 30 derniers jours
chart-missed = Appels manqués
chart-sent = Messages envoyés
chart-booked = Réservations
chart-label = Appels manqués, messages envoyés et réservations par jour sur les 30 derniers jours
chart-today = Aujourd'hui
day-summary = { $missed } manqués · { $sent } envoyés · { $booked } réservés
chart-total = Total : { $summary }

## Le journal des appels

log-title = Journal des appels
column-date = Date et heure
column-caller = Appelant
column-customer = Client
column-status = Statut
column-template = Modèle
column-delivery = Distribution
column-clicked = Clic
column-booked = Réservé
log-empty = Aucun appel manqué ne correspond à ces filtres.
page-newer = ← Appels plus récents
page-older = Appels plus anciens →
pager = Pages du journal
calls-count = { $n ->
    [one] { $n } appel
   *[other] { $n } appels
}
page-number = page { $page }
caller-hidden = Numéro masqué
caller-forgotten = Appelant oublié
customer-new = Nouveau client
customer-returning = Client déjà venu
clicks = { $n ->
    [one] { $n } clic
   *[other] { $n } clics
}
booked = Réservé
booked-canceled = annulée

## Un appel ouvert

detail-open = Détails
detail-close = Fermer
detail-title = Ce qui a été envoyé
detail-nothing = Aucun message n'a été envoyé pour cet appel.
detail-template = Modèle
detail-language = Langue
detail-parameters = Paramètres
detail-link = Lien de réservation
detail-message-id = Identifiant du message
detail-sent-at = Envoyé
detail-delivered-at = Distribué
detail-read-at = Lu
detail-clicks = Clics sur le lien
detail-unknown = inconnu
detail-call-back = Rappeler

## Arrêter les messages à un client

customer-stop = Arrêter les messages
customer-resume = Reprendre les messages
customer-stop-confirm = Arrêter les messages WhatsApp à { $caller } ? Vous pourrez les reprendre ici.
stopped-by-operator = Messages arrêtés par le restaurant
stopped-by-reply = Le client a répondu STOP
stopped-by-131050 = Le client a bloqué les messages marketing du restaurant dans WhatsApp
stopped-only-guest = Seul le client peut revenir sur ce choix.
customer-stopped = Les messages à { $caller } sont arrêtés.
customer-resumed = Les messages à { $caller } reprennent.

## Raisons : pourquoi un appel s'est terminé ainsi

which-call = { $which ->
    [earlier] un appel précédent
   *[later] un appel suivant
}
reason-cooldown-today = message envoyé à { $time } pour { which-call }
reason-cooldown-day = message envoyé le { $day } à { $time } pour { which-call }
reason-cooldown = un message est parti vers ce numéro moins de { $duration } avant ou après
reason-stale = signalé { $late } après l'appel ; les appels de plus de { $limit } ne reçoivent pas de message
reason-no-template = aucun modèle « { $template } » approuvé et actif
reason-key-file-missing = le jeton d'accès WhatsApp ne peut pas être déchiffré : le fichier de clé { $file } est absent
reason-key-file-unreadable = le jeton d'accès WhatsApp ne peut pas être déchiffré : le fichier de clé { $file } ne peut pas être lu
reason-key-file-malformed = le jeton d'accès WhatsApp ne peut pas être déchiffré : le fichier de clé { $file } n'est pas une clé ringback
reason-key-file-wrong = le jeton d'accès WhatsApp ne peut pas être déchiffré : le fichier de clé { $file } n'est pas celui avec lequel le jeton a été chiffré
reason-SKIPPED_FEATURE_DISABLED = les messages après appel manqué sont désactivés pour le restaurant
reason-SKIPPED_NO_WHATSAPP = le restaurant n'a pas de numéro WhatsApp connecté
reason-SKIPPED_HIDDEN_NUMBER = le numéro de l'appelant était masqué
reason-SKIPPED_SUPPRESSED = le client ne veut pas de messages WhatsApp
reason-SKIPPED_LOW_BALANCE = le solde WhatsApp était inférieur au coût d'un message
reason-DISPATCHING = le message est en cours d'envoi
reason-failed = { $why } ; { $next }
failure-131050 = le client a bloqué les messages marketing du restaurant
failure-131049 = WhatsApp a retenu le message : ce client a reçu beaucoup de messages marketing récemment
failure-131026 = ce numéro ne peut pas recevoir ce message WhatsApp
failure-132001 = le modèle n'existe pas chez Meta dans cette langue
failure-132000 = le modèle chez Meta n'a pas le même nombre de paramètres
failure-timeout = WhatsApp n'a pas répondu à temps
failure-transport = WhatsApp n'a pas pu être joint
failure-interrupted = l'envoi a été interrompu par un redémarrage
failure-busy = trop de messages attendaient WhatsApp
failure-said = WhatsApp a répondu : { $message } (code { $code })
failure-code = erreur WhatsApp { $code }
failure-other = l'envoi a échoué
retry-partner = le standard le renverra en réessayant
retry-today = ringback le renverra à { $time }
retry-day = ringback le renverra le { $day } à { $time }
retry-too-old = trop ancien pour être renvoyé
duration-minutes = { $m } min
duration-hours = { $h } h
duration-hours-minutes = { $h } h { $m } min
# Un jour dans une raison : « lun. 7 déc. ».
day-short = { $weekday ->
    [1] lun.
    [2] mar.
    [3] mer.
    [4] jeu.
    [5] ven.
    [6] sam.
   *[7] dim.
} { $day } { $month ->
    [1] janv.
    [2] févr.
    [3] mars
    [4] avr.
    [5] mai
    [6] juin
    [7] juil.
    [8] août
    [9] sept.
    [10] oct.
    [11] nov.
   *[12] déc.
}

## Erreurs, par code (et par champ)

error-generic = Une erreur s'est produite. Veuillez réessayer.
error-server-status = Le serveur a répondu { $status }. Veuillez réessayer.
error-no-restaurant = Aucun restaurant n'est encore lié à ce compte.
error-UNAUTHORIZED = Veuillez vous reconnecter.
error-INVALID_CREDENTIALS = Identifiant ou mot de passe incorrect.
error-RATE_LIMITED = Trop de connexions échouées. Réessayez dans { $retry_after_seconds } s.
error-FORBIDDEN = Cette demande doit venir des pages de la console.
error-NOT_FOUND = Introuvable.
error-METHOD_NOT_ALLOWED = Cette action n'est pas possible ici.
error-MALFORMED_REQUEST = La demande n'a pas pu être lue.
error-UNSUPPORTED_MEDIA_TYPE = La demande n'a pas pu être lue.
error-PAYLOAD_TOO_LARGE = La demande est trop volumineuse.
error-REQUEST_TIMEOUT = La demande a mis trop de temps à arriver. Veuillez réessayer.
error-URI_TOO_LONG = L'adresse est trop longue.
error-SERVICE_BUSY = ringback est occupé. Réessayez dans un instant.
error-STORAGE_UNAVAILABLE = La base de données ne peut rien enregistrer pour le moment. Réessayez dans un instant.
error-INTERNAL_ERROR = Une erreur s'est produite sur le serveur. Veuillez réessayer.
error-SUPPRESSION_NOT_OPERATOR = Le client a lui-même arrêté ces messages : lui seul peut revenir sur ce choix.
error-VALIDATION_ERROR = Veuillez vérifier les filtres.
error-VALIDATION_ERROR-restaurant = Veuillez choisir un restaurant.
error-VALIDATION_ERROR-from = « Du » doit être une date comme 2026-05-10.
error-VALIDATION_ERROR-to = « Au » doit être une date comme 2026-05-10, égale ou postérieure à « Du ».
error-VALIDATION_ERROR-status = Un statut du filtre est inconnu.
error-VALIDATION_ERROR-caller = Ce n'est pas un numéro de téléphone.
error-VALIDATION_ERROR-limit = Une page contient de 1 à 200 appels.
error-VALIDATION_ERROR-cursor = Cette page n'existe plus : repartez de la première page.
error-VALIDATION_ERROR-days = Le graphique montre de 1 à 366 jours.
error-VALIDATION_ERROR-sep = Le séparateur est « comma » ou « semicolon ».
error-VALIDATION_ERROR-lang = La langue est « en » ou « fr ».
error-VALIDATION_ERROR-suppressed = Indiquez si les messages sont arrêtés (true) ou non (false).
