package io.flowgate.control;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.vertx.ext.web.RoutingContext;
import java.util.UUID;

/** Who is calling the control plane: the profile the bearer token acts for, and whether it is the admin token. */
record Caller(UUID profileId, boolean admin) {
  private static final String KEY = "fg.caller";

  void attach(RoutingContext rc) {
    rc.put(KEY, this);
  }

  /** The caller {@link BearerAuth} attached; a programming error when the route is not behind it. */
  static Caller of(RoutingContext rc) {
    Caller caller = rc.get(KEY);
    if (caller == null) {
      throw new GatewayException(ErrorCode.UNAUTHORIZED, "Send Authorization: Bearer <token>.");
    }
    return caller;
  }
}
