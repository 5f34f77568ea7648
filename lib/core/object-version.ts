// How one S3 object version is named, the same way wherever an event, a listing or an answer names it: its ETag
// without the quotes S3 puts around it, and a version id only when that id pins one immutable version.

/** The ETag without its surrounding quotes (S3 answers `"abc…"`, event records carry `abc…`). */
export function unquoteEtag(etag: string): string {
  return etag.replace(/^"(.*)"$/, '$1');
}

/** The ETag as an If-Match header wants it: quoted. */
export function quoteEtag(etag: string): string {
  return etag.startsWith('"') ? etag : `"${etag}"`;
}

/**
 * A version id that identifies one immutable version, or undefined. S3 answers `null` (the string) for an object
 * written while versioning was off or suspended: that names whatever the null version is *now* (an overwrite
 * replaces it), so it pins nothing and is never trusted as a pin.
 */
export function immutableVersionId(versionId: unknown): string | undefined {
  return typeof versionId === 'string' && versionId !== '' && versionId !== 'null' ? versionId : undefined;
}
