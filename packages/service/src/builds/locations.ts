/** @module builds/locations — where a build's image and log go in Pithos when the request does not say. */
import { errors } from "../errors.ts";

export interface Location {
  container: string;
  object: string;
  account?: string;
}

const DEFAULT_IMAGE_CONTAINER = "images";
const DEFAULT_LOG_CONTAINER = "icaas";

/** A Pithos-friendly object name from a build name: `My Ubuntu 24.04!` → `my-ubuntu-24.04`. */
function slug(name: string): string {
  const s = name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, "-")
    .replace(/^[-.]+|[-.]+$/g, "")
    .slice(0, 100);
  return s || "image";
}

/**
 * Fills the image and log locations: container `images` / `icaas`, objects `<slug>-<id>.diskdump`
 * and `<slug>-<id>.log` (the id keeps two builds of one name apart; snf-mkimage refused to overwrite).
 */
export function resolveLocations(
  id: number,
  name: string,
  image: Partial<Location> | undefined,
  log: Partial<Location> | undefined,
): { image: Location; log: Location } {
  const base = `${slug(name)}-${id}`;
  const fill = (given: Partial<Location> | undefined, container: string, object: string): Location => ({
    ...given,
    container: given?.container || container,
    object: given?.object || object,
    ...(given?.account ? { account: given.account } : {}),
  });
  return {
    image: fill(image, DEFAULT_IMAGE_CONTAINER, `${base}.diskdump`),
    log: fill(log, DEFAULT_LOG_CONTAINER, `${base}.log`),
  };
}

/**
 * A location's account must be the user's own: Pithos refuses container PUT and block POST when the
 * token's user is not the account (`_can_write_container`), and Plankton refuses the permission change
 * of a register. Refused here, before a VM is paid for, rather than after a whole download.
 */
export function checkAccounts(
  user: string,
  given: { image?: Partial<Location>; log?: Partial<Location> },
): void {
  for (const field of ["image", "log"] as const) {
    const account = given[field]?.account;
    if (account && account !== user) throw errors.accountNotYours(`build.${field}.account`, user);
  }
}
