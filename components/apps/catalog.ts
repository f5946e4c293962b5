import { bookinfo } from "./bookinfo";
import { pets } from "./pets";
import { AppSpec } from "./spec";

/** The built-in apps a stack enables by name in `aks-istio-mesh:apps`. */
export const CATALOG: Readonly<Record<string, AppSpec>> = { pets, bookinfo };
