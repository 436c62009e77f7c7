/**
 * The shape of a namespace with every leaf a string: other languages must have the same keys. A
 * plural (`x_one`/`x_other`) may also have `x_many`, a form French needs for counts such as 1000000
 * (Intl.PluralRules); test/i18n checks each language has every form it uses.
 */
export type Translation<T> = { [K in keyof T]: T[K] extends string ? string : Translation<T[K]> } & {
  [K in keyof T as K extends `${infer Base}_other` ? `${Base}_many` : never]?: string;
};
