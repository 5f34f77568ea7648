// Starting the stack piece by piece: each piece starts one thing and says how to stop it; when a later piece fails
// to start, the pieces already started stop in reverse order.

/** Something started, and how to stop it. */
export interface Started {
  close(): Promise<void>;
}

export class StartedPieces {
  private readonly closers: Array<() => Promise<void>> = [];

  /** Keeps `piece` to be closed by closeAll, and answers it. */
  add<T extends Started>(piece: T): T {
    this.closers.push(() => piece.close());
    return piece;
  }

  /** Closes every piece once, the last started first; a piece that fails to close does not stop the others. */
  async closeAll(): Promise<void> {
    for (const close of this.closers.splice(0).reverse()) await close().catch(() => undefined);
  }
}
