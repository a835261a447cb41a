package io.flowgate.trigger;

/** The data-plane suite on four event loops (more than the cores: requests and runs cross loops). */
class TriggerApiMultiLoopTest extends TriggerApiTestBase {
  @Override
  int eventLoops() {
    return 4;
  }
}
