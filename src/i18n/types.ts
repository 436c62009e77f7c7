/** The shape of a namespace with every leaf a string: other languages must have the same keys. */
export type Translation<T> = { [K in keyof T]: T[K] extends string ? string : Translation<T[K]> };
