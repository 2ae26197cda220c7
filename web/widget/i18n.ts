/**
 * @module web/widget/i18n
 * The widget's words in English and French (add a language by adding a table). `{x}` are filled in.
 */
export type Lang = 'en' | 'fr';

const en = {
  title: 'Flood impact forecast',
  loading: 'Loading the forecast…',
  computing: 'Computing in this page…',
  waiting: 'The forecast is being computed ({done} of {total} tiles)…',
  leadTime: 'Lead time',
  zone: 'Area',
  alert: 'Alert',
  probability: 'Probability',
  damage: 'Damage (median)',
  ead: 'Expected annual damage',
  none: 'none',
  low: 'low',
  medium: 'medium',
  high: 'high',
  noTrigger: 'no trigger rule',
  legend: 'Alert level',
  mapLabel: 'Map of {metric} per area at {lead}: {list}',
  tableCaption: 'Areas with the highest alert, {lead}',
  more: '{n} more areas',
  more1: '1 more area',
  source: 'Source: {src}',
  computedAt: 'computed {when}',
  errNeedSource: 'This widget needs a forecast: set the "job" attribute (with "api" and "key") or the "result" attribute.',
  errOrigin: 'This website ({origin}) is not allowed to show forecasts from {api} with this key. Ask the forecast provider to add this website to the key.',
  errUnreachable: 'The forecast service at {api} cannot be reached right now. Please try again later.',
  errAuth: 'The forecast service refused the key (missing, wrong, revoked or expired).',
  errForbidden: 'The forecast service refused the request: {detail}',
  errNotFound: 'This forecast was not found: {detail}',
  errFailed: 'The forecast could not be computed: {detail}',
  errOther: 'The forecast could not be shown: {detail}',
  errZones: 'The map of areas could not be loaded ({detail}); the table shows the areas.',
} as const;

export type Words = { [K in keyof typeof en]: string };

const fr: Words = {
  title: "Prévision d'impact des inondations",
  loading: 'Chargement de la prévision…',
  computing: 'Calcul dans cette page…',
  waiting: 'La prévision est en cours de calcul ({done} tuiles sur {total})…',
  leadTime: 'Échéance',
  zone: 'Zone',
  alert: 'Alerte',
  probability: 'Probabilité',
  damage: 'Dommages (médiane)',
  ead: 'Dommages annuels attendus',
  none: 'aucune',
  low: 'faible',
  medium: 'moyenne',
  high: 'élevée',
  noTrigger: 'pas de règle de déclenchement',
  legend: "Niveau d'alerte",
  mapLabel: 'Carte de {metric} par zone à {lead} : {list}',
  tableCaption: "Zones au niveau d'alerte le plus élevé, {lead}",
  more: '{n} autres zones',
  more1: '1 autre zone',
  source: 'Source : {src}',
  computedAt: 'calculé le {when}',
  errNeedSource: "Ce widget a besoin d'une prévision : indiquez l'attribut « job » (avec « api » et « key ») ou l'attribut « result ».",
  errOrigin: "Ce site ({origin}) n'est pas autorisé à afficher les prévisions de {api} avec cette clé. Demandez au fournisseur d'ajouter ce site à la clé.",
  errUnreachable: 'Le service de prévision {api} est injoignable pour le moment. Réessayez plus tard.',
  errAuth: 'Le service de prévision a refusé la clé (absente, erronée, révoquée ou expirée).',
  errForbidden: 'Le service de prévision a refusé la demande : {detail}',
  errNotFound: 'Prévision introuvable : {detail}',
  errFailed: "La prévision n'a pas pu être calculée : {detail}",
  errOther: "La prévision n'a pas pu être affichée : {detail}",
  errZones: "La carte des zones n'a pas pu être chargée ({detail}) ; le tableau montre les zones.",
};

const TABLES: Record<Lang, Words> = { en, fr };

export function words(lang: string | null | undefined): { lang: Lang; t: (k: keyof Words, vars?: Record<string, string | number>) => string } {
  const l: Lang = lang?.toLowerCase().startsWith('fr') ? 'fr' : 'en';
  const tab = TABLES[l];
  return { lang: l, t: (k, vars = {}) => tab[k].replace(/\{(\w+)\}/g, (_, v: string) => String(vars[v] ?? `{${v}}`)) };
}
