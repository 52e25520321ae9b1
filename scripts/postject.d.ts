// postject ships no types; this is the part of its API scripts/build-sea.ts uses.
declare module 'postject' {
  export interface InjectOptions {
    sentinelFuse?: string;
    machoSegmentName?: string;
    overwrite?: boolean;
  }
  export function inject(
    filename: string,
    resourceName: string,
    resourceData: Uint8Array,
    options?: InjectOptions,
  ): Promise<void>;
  const postject: { inject: typeof inject };
  export default postject;
}
