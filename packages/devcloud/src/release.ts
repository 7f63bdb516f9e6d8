/** @module release — what differs between the Synnefo releases a devcloud can play, read from their source. */

/** The releases a devcloud can behave as; `latest` is Synnefo's develop branch (0.21). */
export const SYNNEFO_RELEASES = ["0.16", "0.17", "0.19", "0.20", "latest"] as const;
export type SynnefoRelease = (typeof SYNNEFO_RELEASES)[number];

/** The strictest release: the default of tests and demos, so what works here works everywhere. */
export const STRICTEST_RELEASE: SynnefoRelease = "0.16";

/** One release's differences. Every field names the file of Synnefo's source it was read from. */
export interface ReleaseProfile {
  release: SynnefoRelease;
  /**
   * Plankton's `images` route also without the slash. Up to 0.19 only `^images/$`
   * (`plankton/urls.py`) with `APPEND_SLASH = False`, so `POST /images` is a 400; 0.20 relaxed it to
   * `^images(?:/)?$` (commit 4f00e1b91).
   */
  imagesWithoutSlash: boolean;
  /** `/image/v1/` beside `/image/v1.0/` (`plankton/urls.py`, from 0.19). */
  imageV1Alias: boolean;
  /**
   * The catalog's image endpoint is `…/image` without a version (`api/services.py`:
   * `'SNF:exposeVersion': False`, from 0.19); before, `…/image/v1.0`.
   */
  unversionedImageEndpoint: boolean;
  /** Plankton's list is `{"images": […]}` (`plankton/views.py`, develop after 0.20, 91b1d8e08); before, a bare array. */
  wrappedImageList: boolean;
  /** Astakos' token answer has `user.projects` (`astakos/api/tokens.py`, from 0.17). */
  tokenHasProjects: boolean;
}

const PROFILES: Record<SynnefoRelease, Omit<ReleaseProfile, "release">> = {
  "0.16": {
    imagesWithoutSlash: false,
    imageV1Alias: false,
    unversionedImageEndpoint: false,
    wrappedImageList: false,
    tokenHasProjects: false,
  },
  "0.17": {
    imagesWithoutSlash: false,
    imageV1Alias: false,
    unversionedImageEndpoint: false,
    wrappedImageList: false,
    tokenHasProjects: true,
  },
  "0.19": {
    imagesWithoutSlash: false,
    imageV1Alias: true,
    unversionedImageEndpoint: true,
    wrappedImageList: false,
    tokenHasProjects: true,
  },
  "0.20": {
    imagesWithoutSlash: true,
    imageV1Alias: true,
    unversionedImageEndpoint: true,
    wrappedImageList: false,
    tokenHasProjects: true,
  },
  latest: {
    imagesWithoutSlash: true,
    imageV1Alias: true,
    unversionedImageEndpoint: true,
    wrappedImageList: true,
    tokenHasProjects: true,
  },
};

export function isSynnefoRelease(value: unknown): value is SynnefoRelease {
  return typeof value === "string" && (SYNNEFO_RELEASES as readonly string[]).includes(value);
}

/** The profile of a release; an unknown name is an error that lists the known ones. */
export function releaseProfile(release: string = STRICTEST_RELEASE): ReleaseProfile {
  if (!isSynnefoRelease(release))
    throw new Error(`unknown Synnefo release '${release}' (one of ${SYNNEFO_RELEASES.join(", ")})`);
  return { release, ...PROFILES[release] };
}
