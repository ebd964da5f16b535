import { v7 } from 'uuid';

/**
 * A new transfer id: a UUIDv7, time-ordered, so new transfers and their entries land on the
 * rightmost pages of their indexes instead of random ones (less WAL, fewer pages to keep in
 * memory). Still 74 random bits: not guessable.
 */
export function newTransferId(): string {
  return v7();
}

/** A well-formed uuid: anything else cannot name a row and is not looked up. */
export const uuid_pattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
