/** cluster-key-slot ships no types: the slot (0-16383) Redis Cluster assigns a key. */
declare module "cluster-key-slot" {
  export default function calculateSlot(key: string | Buffer): number;
}
