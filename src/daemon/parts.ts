/**
 * The daemon as a composition of parts (issue #18.5): each part is registered when it has started, with what stops
 * it; the daemon stops them in the reverse of that one start order, and a failed start stops what had started the
 * same way. So what depends on a part (registered later) always stops before it.
 */
export interface DaemonPart {
  readonly name: string;
  stop(): Promise<void> | void;
}

export class DaemonParts {
  /** Started and not stopped yet, in start order. */
  private readonly parts: DaemonPart[] = [];
  private readonly startedNames: string[] = [];
  private readonly stoppedNames: string[] = [];

  /** `name` has started; `stop` undoes it. */
  started(name: string, stop: () => Promise<void> | void): void {
    this.parts.push({ name, stop });
    this.startedNames.push(name);
  }

  /** Part names in start order. */
  get startOrder(): readonly string[] {
    return this.startedNames;
  }

  /** Part names in the order they were stopped (empty until stopAll). */
  get stopOrder(): readonly string[] {
    return this.stoppedNames;
  }

  /**
   * Stop every started part, the last started first. A part that fails to stop is reported to `onError` and the
   * others are still stopped; each part is stopped once.
   */
  async stopAll(onError: (name: string, err: unknown) => void): Promise<void> {
    while (this.parts.length > 0) {
      const p = this.parts.pop()!;
      try {
        await p.stop();
      } catch (e) {
        onError(p.name, e);
      }
      this.stoppedNames.push(p.name);
    }
  }
}
