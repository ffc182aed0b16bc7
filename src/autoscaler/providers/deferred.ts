// A provider built on first use and again after a failure, so a missing credentials secret neither stops the
// other apps from loading nor needs a restart once it is fixed: until then each pass fails, and says why.
import type { ComputeProvider, LaunchRequest } from './types.js';

export class DeferredProvider implements ComputeProvider {
  readonly kind: string;
  private made?: Promise<ComputeProvider>;

  constructor(private readonly make: () => Promise<ComputeProvider>, kind: string) {
    this.kind = kind;
  }

  private get(): Promise<ComputeProvider> {
    this.made ??= this.make().catch((e) => {
      this.made = undefined;
      throw e;
    });
    return this.made;
  }

  launch = async (req: LaunchRequest) => (await this.get()).launch(req);
  terminate = async (ids: string[]) => (await this.get()).terminate(ids);
  list = async (appId: string) => (await this.get()).list(appId);
  close = async () => {
    if (this.made) await (await this.made.catch(() => undefined))?.close?.();
  };
}
