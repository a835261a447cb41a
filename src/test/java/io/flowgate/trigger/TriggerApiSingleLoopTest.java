package io.flowgate.trigger;

/** The data-plane suite on one event loop. */
class TriggerApiSingleLoopTest extends TriggerApiTestBase {
  @Override
  int eventLoops() {
    return 1;
  }
}
