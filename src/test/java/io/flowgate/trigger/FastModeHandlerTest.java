package io.flowgate.trigger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import org.junit.jupiter.api.Test;

/** {@code X-Wait-For-Ready} parsing: 0..60 whole seconds, anything else 400. */
class FastModeHandlerTest {

  @Test
  void x_wait_for_ready_accepts_whole_seconds_from_0_to_60() {
    assertThat(FastModeHandler.waitSeconds(null)).isZero();
    assertThat(FastModeHandler.waitSeconds("0")).isZero();
    assertThat(FastModeHandler.waitSeconds(" 15 ")).isEqualTo(15);
    assertThat(FastModeHandler.waitSeconds("60")).isEqualTo(60);
  }

  @Test
  void x_wait_for_ready_out_of_range_or_not_a_number_is_invalid_request() {
    for (String bad : new String[] {"61", "-1", "", "1.5", "ten", "999999999999", "+5"}) {
      assertThatThrownBy(() -> FastModeHandler.waitSeconds(bad)).as(bad)
          .isInstanceOfSatisfying(GatewayException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST);
            assertThat(e.detail()).contains("X-Wait-For-Ready");
          });
    }
  }
}
