package io.flowgate.control;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.flowgate.deployments.NewProfile;
import io.flowgate.deployments.ProfileRepository;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.List;

/** {@code POST /profiles}: the admin token alone creates profiles; the new management token is shown once. */
final class ProfileHandlers {
  static final int MAX_NAME_LENGTH = 100;

  private final ProfileRepository profiles;
  private final ControlRequests requests;

  ProfileHandlers(ProfileRepository profiles, ControlRequests requests) {
    this.profiles = profiles;
    this.requests = requests;
  }

  /** {@code POST /profiles {"name"}} → 201 with the profile and {@code "token": "mt-…"}. */
  void create(RoutingContext rc) {
    ControlRequests.reply(rc, 201, () -> {
      if (!Caller.of(rc).admin()) {
        throw new GatewayException(ErrorCode.FORBIDDEN,
            "Only the admin token (FLOWGATE_ADMIN_TOKEN) may create profiles; a profile token may not.");
      }
      JsonObject body = requests.body(rc, "the profile");
      ControlRequests.onlyFields(body, List.of("name"));
      Object raw = body.getValue("name");
      if (!(raw instanceof String name) || name.isBlank() || name.length() > MAX_NAME_LENGTH
          || name.chars().anyMatch(Character::isISOControl)) {
        throw new GatewayException(ErrorCode.INVALID_REQUEST, "\"name\" is required: a string of 1 to "
            + MAX_NAME_LENGTH + " printable characters, such as \"team-a\".");
      }
      return profiles.create(name.trim()).map(NewProfile::toJson);
    });
  }
}
