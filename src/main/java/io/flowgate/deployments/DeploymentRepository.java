package io.flowgate.deployments;

import io.flowgate.ErrorCode;
import io.flowgate.GatewayException;
import io.flowgate.webhooks.WebhookEvents;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;

/**
 * Deployments in PostgreSQL. A deployment pins one version of one of its profile's flows (or, in fast mode, names an
 * inference server); it is created together with its first API key in one transaction. Thread-safe; every method
 * returns a Future.
 */
public final class DeploymentRepository {
  /** The name of the key made together with a deployment. */
  public static final String FIRST_KEY_NAME = "default";

  private final Pool pool;
  private final ApiKeyRepository keys;

  public DeploymentRepository(Pool pool) {
    this(pool, new ApiKeyRepository(pool));
  }

  DeploymentRepository(Pool pool, ApiKeyRepository keys) {
    this.pool = pool;
    this.keys = keys;
  }

  /** {@link #create(UUID, DeploymentSettings, String)} of a deployment without a webhook secret. */
  public Future<NewDeployment> create(UUID profileId, DeploymentSettings settings) {
    return create(profileId, settings, null);
  }

  /**
   * Creates a deployment from {@code settings} (defaults: sync, api, the flow's name, its latest version), its first
   * API key and, when {@code webhookSecret} is given (its settings send webhooks), its webhook signing secret: all or
   * nothing. Fails with 400 {@code invalid_request} for settings that do not fit together and 404 {@code not_found}
   * when the profile has no such flow.
   */
  public Future<NewDeployment> create(UUID profileId, DeploymentSettings settings, String webhookSecret) {
    Deployment requested;
    try {
      requested = settings.applyTo(new Deployment(UUID.randomUUID(), profileId, null, null, null, ExecutionMode.SYNC,
          DeploymentType.API, null, null, null, null, null, null, null));
      DeploymentSettings.checkCombination(requested);
    } catch (GatewayException e) {
      return Future.failedFuture(e);
    }
    return pool.withTransaction(conn -> pinFlow(conn, requested)
        .compose(pinned -> conn.preparedQuery(DeploymentSql.INSERT).execute(Tuple.from(Arrays.asList(
            pinned.id(), pinned.profileId(), pinned.flowId(), pinned.flowVersion(), pinned.name(),
            pinned.executionMode().wire(), pinned.deploymentType().wire(), pinned.timeoutSeconds(),
            pinned.maxBodyBytes(), pinned.rateLimit(), pinned.notification(), pinned.inferenceServerId()))))
        .map(rows -> Rows.firstOrNull(rows, Rows::deployment))
        .compose(deployment -> (webhookSecret == null ? Future.<Void>succeededFuture()
            : conn.preparedQuery(DeploymentSql.INSERT_WEBHOOK_ENDPOINT)
                .execute(Tuple.of(deployment.id(), profileId, webhookSecret)).<Void>mapEmpty())
            .compose(v -> keys.insert(conn, profileId, deployment.id(), FIRST_KEY_NAME))
            .map(key -> new NewDeployment(deployment, key, webhookSecret))))
        .recover(DeploymentRepository::flowGone);
  }

  /** A flow deleted between the check and the insert surfaces as a foreign-key violation: answer as if missing. */
  private static <T> Future<T> flowGone(Throwable failure) {
    if (Rows.isSqlState(failure, Rows.FOREIGN_KEY_VIOLATION)) {
      return Future.failedFuture(new GatewayException(ErrorCode.NOT_FOUND,
          "The flow named by \"flow_id\" was deleted meanwhile; create it again or pick another flow."));
    }
    return Future.failedFuture(failure);
  }

  /**
   * {@code d} with its flow version pinned (the requested one, else the latest) and its name defaulted (the flow's);
   * checks the flow belongs to the profile.
   */
  private static Future<Deployment> pinFlow(SqlClient client, Deployment d) {
    if (d.flowId() == null) {
      String name = d.name() != null ? d.name() : "deployment-" + d.id().toString().substring(0, 8);
      return Future.succeededFuture(withFlow(d, null, null, name));
    }
    return client.preparedQuery(DeploymentSql.FLOW_FOR_PIN).execute(Tuple.of(d.flowId(), d.profileId()))
        .compose(rows -> {
          if (rows.size() == 0) {
            return Future.failedFuture(new GatewayException(ErrorCode.NOT_FOUND, "No flow " + d.flowId()
                + " exists in this profile; create it with POST /api/v1/flows or check \"flow_id\"."));
          }
          var row = rows.iterator().next();
          int latest = row.getInteger("latest_version");
          Integer version = d.flowVersion() == null ? Integer.valueOf(latest) : d.flowVersion();
          if (version > latest) {
            return Future.failedFuture(new GatewayException(ErrorCode.INVALID_REQUEST, "\"flow_version\" "
                + version + " does not exist: flow " + d.flowId() + " has versions 1 to " + latest + "."));
          }
          return Future.succeededFuture(withFlow(d, d.flowId(), version,
              d.name() != null ? d.name() : row.getString("name")));
        });
  }

  private static Deployment withFlow(Deployment d, UUID flowId, Integer version, String name) {
    return new Deployment(d.id(), d.profileId(), flowId, version, name, d.executionMode(), d.deploymentType(),
        d.timeoutSeconds(), d.maxBodyBytes(), d.rateLimit(), d.notification(), d.inferenceServerId(), d.createdAt(),
        d.updatedAt());
  }

  /** The profile's deployments, oldest first. */
  public Future<List<Deployment>> list(UUID profileId) {
    return pool.preparedQuery(DeploymentSql.LIST).execute(Tuple.of(profileId))
        .map(rows -> Rows.all(rows, Rows::deployment));
  }

  /** The profile's deployment {@code id}, or null. */
  public Future<Deployment> get(UUID profileId, UUID id) {
    return pool.preparedQuery(DeploymentSql.GET).execute(Tuple.of(id, profileId))
        .map(rows -> Rows.firstOrNull(rows, Rows::deployment));
  }

  /**
   * The deployment {@code id} whoever owns it, or null. No profile filter: the hot-path cache calls this for the
   * deployment a trigger names and then checks the key may call it.
   */
  public Future<Deployment> findById(UUID id) {
    return pool.preparedQuery(DeploymentSql.FIND_BY_ID).execute(Tuple.of(id))
        .map(rows -> Rows.firstOrNull(rows, Rows::deployment));
  }

  /**
   * Applies {@code settings} to the profile's deployment; a new {@code flow_id} pins that flow's latest version unless
   * {@code flow_version} is given. 404 {@code not_found} when missing, 400 {@code invalid_request} when the result
   * does not fit together.
   */
  public Future<Deployment> patch(UUID profileId, UUID id, DeploymentSettings settings) {
    return patch(profileId, id, settings, null).map(SavedDeployment::deployment);
  }

  /**
   * {@link #patch(UUID, UUID, DeploymentSettings)} that, when the result sends webhooks and {@code webhookSecret} is
   * given, makes sure it has a signing secret (this one, returned to be shown once, if it had none) and enables its
   * endpoint again if a 410 had disabled it.
   */
  public Future<SavedDeployment> patch(UUID profileId, UUID id, DeploymentSettings settings, String webhookSecret) {
    return pool.withTransaction(conn -> conn.preparedQuery(DeploymentSql.GET_FOR_UPDATE).execute(Tuple.of(id,
            profileId))
        .compose(rows -> {
          Deployment current = Rows.firstOrNull(rows, Rows::deployment);
          if (current == null) {
            return Future.failedFuture(notFound(id));
          }
          Deployment merged;
          try {
            merged = settings.applyTo(current);
            DeploymentSettings.checkCombination(merged);
          } catch (GatewayException e) {
            return Future.failedFuture(e);
          }
          return pinFlow(conn, merged);
        })
        .compose(d -> conn.preparedQuery(DeploymentSql.UPDATE).execute(Tuple.from(Arrays.asList(
            d.id(), d.profileId(), d.flowId(), d.flowVersion(), d.name(), d.executionMode().wire(),
            d.deploymentType().wire(), d.timeoutSeconds(), d.maxBodyBytes(), d.rateLimit(), d.notification(),
            d.inferenceServerId()))))
        .map(rows -> Rows.firstOrNull(rows, Rows::deployment))
        .compose(d -> webhookSecret == null || !WebhookEvents.notifies(d.notification())
            ? Future.succeededFuture(new SavedDeployment(d, null))
            : conn.preparedQuery(DeploymentSql.UPSERT_WEBHOOK_ENDPOINT).execute(Tuple.of(d.id(), profileId,
                webhookSecret)).map(rows -> new SavedDeployment(d,
                rows.iterator().next().getBoolean("inserted") ? webhookSecret : null))))
        .recover(DeploymentRepository::flowGone);
  }

  /** Pins the flow's latest version. 404 when missing; 409 {@code conflict} for a deployment without a flow. */
  public Future<Deployment> redeploy(UUID profileId, UUID id) {
    return pool.preparedQuery(DeploymentSql.REDEPLOY).execute(Tuple.of(id, profileId))
        .compose(rows -> {
          Deployment updated = Rows.firstOrNull(rows, Rows::deployment);
          if (updated != null) {
            return Future.succeededFuture(updated);
          }
          return get(profileId, id).compose(existing -> Future.failedFuture(existing == null ? notFound(id)
              : new GatewayException(ErrorCode.CONFLICT, "Deployment " + id + " has no flow to redeploy; set "
                  + "\"flow_id\" with PATCH /api/v1/deployments/" + id + " first.")));
        });
  }

  /** Deletes the deployment and its keys; 404 {@code not_found} when missing. */
  public Future<Void> delete(UUID profileId, UUID id) {
    return pool.preparedQuery(DeploymentSql.DELETE).execute(Tuple.of(id, profileId))
        .compose(rows -> rows.rowCount() == 0 ? Future.failedFuture(notFound(id)) : Future.succeededFuture());
  }

  static GatewayException notFound(UUID id) {
    return new GatewayException(ErrorCode.NOT_FOUND,
        "No deployment " + id + " exists in this profile; list your deployments with GET /api/v1/deployments.");
  }
}
