// kinesalite ships no types; this declares the small part of it that src/testing uses.
declare module 'kinesalite' {
  import type { Server } from 'node:http';

  interface KinesaliteOptions {
    /** Milliseconds a new stream stays CREATING. */
    createStreamMs?: number;
    /** Milliseconds a deleted stream stays DELETING. */
    deleteStreamMs?: number;
    /** Milliseconds a stream stays UPDATING after a split or merge. */
    updateStreamMs?: number;
    /** Most shards the account may hold. */
    shardLimit?: number;
    /** A LevelDB directory; in memory when absent. */
    path?: string;
  }

  function kinesalite(options?: KinesaliteOptions): Server;
  export default kinesalite;
}
