package io.flowgate.deployments;

import static io.flowgate.deployments.DbFixture.await;
import static io.flowgate.deployments.DbFixture.awaitGatewayFailure;
import static org.assertj.core.api.Assertions.assertThat;

import io.flowgate.ErrorCode;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.HexFormat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VertxExtension.class)
class ProfileRepositoryTest {
  private static Pool pool;
  private static ProfileRepository profiles;

  @BeforeAll
  static void startDatabase(Vertx vertx) {
    pool = DbFixture.pool(vertx, ProfileRepositoryTest.class);
    profiles = new ProfileRepository(pool);
  }

  @AfterAll
  static void closePool() {
    await(pool.close());
  }

  @Test
  void creates_a_profile_with_an_mt_token_that_finds_it_by_hash() {
    NewProfile created = await(profiles.create("team-a"));
    assertThat(created.token()).startsWith("mt-");
    assertThat(ApiKeys.wellFormed(created.token(), "mt-")).isTrue();
    assertThat(created.profile().name()).isEqualTo("team-a");
    assertThat(await(profiles.findByTokenHash(ApiKeys.hash(created.token())))).isEqualTo(created.profile().id());
    assertThat(created.toJson().getString("token")).isEqualTo(created.token());
  }

  @Test
  void stores_only_the_hash_of_the_management_token() {
    NewProfile created = await(profiles.create("team-hash"));
    Row row = await(pool.preparedQuery("SELECT row_to_json(p)::text AS j, encode(token_hash, 'hex') AS h"
        + " FROM profiles p WHERE id = $1").execute(Tuple.of(created.profile().id())))
        .iterator().next();
    assertThat(row.getString("j")).doesNotContain(created.token());
    assertThat(row.getString("h")).isEqualTo(HexFormat.of().formatHex(ApiKeys.hash(created.token())));
  }

  @Test
  void refuses_a_duplicate_name_with_409_conflict() {
    await(profiles.create("team-twice"));
    assertThat(awaitGatewayFailure(profiles.create("team-twice")).code()).isEqualTo(ErrorCode.CONFLICT);
  }

  @Test
  void finds_nothing_for_an_unknown_token() {
    assertThat(await(profiles.findByTokenHash(ApiKeys.hash(ApiKeys.generate("mt-"))))).isNull();
  }

  @Test
  void has_the_default_profile_from_the_migration() {
    assertThat(await(profiles.findById(Profile.DEFAULT_ID)).name()).isEqualTo("default");
  }
}
