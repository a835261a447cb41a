package io.flowgate.flow;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.PriorityQueue;

/**
 * Pure DAG planning over node indices: checks that the edges form no cycle and that every node is reachable from
 * the root, and computes a topological order (stable: ties keep definition order). Immutable; usable on any
 * thread.
 */
final class DagPlan {

  private final int[] order;

  private DagPlan(int[] order) {
    this.order = order;
  }

  /** Definition indices in topological order; the root comes first. */
  int[] order() {
    return order.clone();
  }

  /**
   * Plans nodes {@code 0..ids.length-1} with edges {@code from[i] -> to[i]}.
   *
   * @throws FlowValidationException {@code cycle: a -> b -> a} or
   *     {@code nodes not reachable from api_input node 'input': 'x', 'y'}
   */
  static DagPlan of(String[] ids, int[] from, int[] to, int root) throws FlowValidationException {
    int n = ids.length;
    int[][] succ = adjacency(n, from, to);
    int[][] pred = adjacency(n, to, from);
    int[] indegree = new int[n];
    for (int t : to) {
      indegree[t]++;
    }
    int[] order = new int[n];
    int count = 0;
    // Smallest ready index first keeps the order stable across runs and readable in node_outputs.
    PriorityQueue<Integer> ready = new PriorityQueue<>();
    for (int i = 0; i < n; i++) {
      if (indegree[i] == 0) {
        ready.add(i);
      }
    }
    while (!ready.isEmpty()) {
      int v = ready.poll();
      order[count++] = v;
      for (int s : succ[v]) {
        if (--indegree[s] == 0) {
          ready.add(s);
        }
      }
    }
    if (count < n) {
      throw cycle(ids, pred, indegree);
    }
    boolean[] seen = new boolean[n];
    ArrayDeque<Integer> queue = new ArrayDeque<>();
    queue.add(root);
    seen[root] = true;
    while (!queue.isEmpty()) {
      for (int s : succ[queue.poll()]) {
        if (!seen[s]) {
          seen[s] = true;
          queue.add(s);
        }
      }
    }
    List<String> unreachable = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      if (!seen[i]) {
        unreachable.add(ids[i]);
      }
    }
    if (!unreachable.isEmpty()) {
      throw new FlowValidationException(unreachable.get(0), (unreachable.size() == 1 ? "node " : "nodes ")
          + quoteAll(unreachable) + (unreachable.size() == 1 ? " is" : " are")
          + " not reachable from api_input node '" + ids[root] + "'");
    }
    return new DagPlan(order);
  }

  /**
   * Every node left by Kahn's algorithm has a predecessor also left, so walking predecessors from one of them must
   * come back to a node already on the path: that loop is a cycle.
   */
  private static FlowValidationException cycle(String[] ids, int[][] pred, int[] remaining) {
    int n = ids.length;
    int start = 0;
    while (remaining[start] == 0) {
      start++;
    }
    int[] position = new int[n];
    Arrays.fill(position, -1);
    List<Integer> path = new ArrayList<>();
    int v = start;
    while (position[v] < 0) {
      position[v] = path.size();
      path.add(v);
      int next = -1;
      for (int p : pred[v]) {
        if (remaining[p] > 0) {
          next = p;
          break;
        }
      }
      v = next;
    }
    // path[position[v]..] walked backwards along edges; reverse it into edge direction.
    List<Integer> loop = new ArrayList<>(path.subList(position[v], path.size()));
    Collections.reverse(loop);
    int first = 0;
    for (int i = 1; i < loop.size(); i++) {
      if (loop.get(i) < loop.get(first)) {
        first = i;
      }
    }
    StringBuilder sb = new StringBuilder("cycle: ");
    for (int i = 0; i < loop.size(); i++) {
      sb.append(ids[loop.get((first + i) % loop.size())]).append(" -> ");
    }
    sb.append(ids[loop.get(first)]);
    return new FlowValidationException(ids[loop.get(first)], sb.toString());
  }

  private static int[][] adjacency(int n, int[] from, int[] to) {
    int[] degree = new int[n];
    for (int f : from) {
      degree[f]++;
    }
    int[][] adj = new int[n][];
    for (int i = 0; i < n; i++) {
      adj[i] = new int[degree[i]];
    }
    int[] fill = new int[n];
    for (int e = 0; e < from.length; e++) {
      adj[from[e]][fill[from[e]]++] = to[e];
    }
    return adj;
  }

  private static String quoteAll(List<String> ids) {
    StringBuilder sb = new StringBuilder();
    for (String id : ids) {
      if (sb.length() > 0) {
        sb.append(", ");
      }
      sb.append('\'').append(id).append('\'');
    }
    return sb.toString();
  }
}
