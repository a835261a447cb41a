package io.flowgate.backends;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * A Lua script run with EVALSHA (one round trip, atomic on the server), falling back to EVAL when the server does
 * not know it yet (first use, or after a Redis restart). Thread-safe.
 */
public final class LuaScript {
  private final String source;
  private final String sha;

  public LuaScript(String source) {
    this.source = source;
    this.sha = sha1(source);
  }

  /**
   * This script for many calls in one: KEYS holds each call's {@code keysPerCall} keys in turn and ARGV each call's
   * {@code argsPerCall} arguments; the reply is the array of each call's own reply (false or nil as nil). The calls
   * run one after the other in one atomic script, so each is exactly what it would be alone, while Redis pays the
   * script call's own cost (dispatch, stack, reply) once for them all.
   */
  public LuaScript batched(int keysPerCall, int argsPerCall) {
    return new LuaScript("local function one(KEYS, ARGV)\n" + source + "\nend\n" + """
        local out = {}
        for i = 0, #KEYS / %1$d - 1 do
          local k, a = {}, {}
          for j = 1, %1$d do k[j] = KEYS[i * %1$d + j] end
          for j = 1, %2$d do a[j] = ARGV[i * %2$d + j] end
          local r = one(k, a)
          if r == nil then r = false end
          out[i + 1] = r
        end
        return out
        """.formatted(keysPerCall, argsPerCall));
  }

  /** Runs the script; each argument is a String or, to pass bytes without a String copy, a Buffer. */
  public Future<Response> run(Redis redis, List<String> keys, List<?> args) {
    return redis.send(request(Command.EVALSHA, sha, keys, args)).recover(e -> {
      if (e.getMessage() != null && e.getMessage().startsWith("NOSCRIPT")) {
        return redis.send(request(Command.EVAL, source, keys, args));
      }
      return Future.failedFuture(e);
    });
  }

  private static Request request(Command command, String script, List<String> keys, List<?> args) {
    Request r = Request.cmd(command).arg(script).arg(keys.size());
    for (String k : keys) {
      r.arg(k);
    }
    for (Object a : args) {
      if (a instanceof Buffer b) {
        r.arg(b);
      } else {
        r.arg((String) a);
      }
    }
    return r;
  }

  private static String sha1(String source) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1")
          .digest(source.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-1 is part of every JDK", e);
    }
  }
}
