"""4-ary min-heaps on parallel arrays (keys float64, nodes int32).

heap_push / heap_pop: lazy deletion. Stale entries (a node pushed again with a
new key) are skipped by the caller when popped, so no position index is
maintained; a node may be queued several times. Used by the fast-marching map
kernel (:mod:`.maps`).

pq_update / pq_pop: indexed, with decrease-key (each node queued at most once,
capacity n). Used by the one Dijkstra / A* core (:mod:`.dijkstra`), hence by
every shortest-path search, and by the greedy hub cover of :mod:`.apsp`: fewer,
cheaper pops than the lazy heap, see the measurements below. (An earlier measurement found a
position-indexed *binary* heap slower than the lazy 4-ary one; the 4-ary
indexed heap is faster than both.)
"""

from numba import njit


@njit(cache=True, inline="always")
def heap_push(keys, nodes, size, key, node):
    i = size
    while i > 0:
        parent = (i - 1) >> 2
        if keys[parent] <= key:
            break
        keys[i] = keys[parent]
        nodes[i] = nodes[parent]
        i = parent
    keys[i] = key
    nodes[i] = node
    return size + 1


@njit(cache=True, inline="always")
def heap_pop(keys, nodes, size):
    """Remove the root; return (key, node, new size)."""
    key0 = keys[0]
    node0 = nodes[0]
    size -= 1
    if size > 0:
        key = keys[size]
        node = nodes[size]
        i = 0
        while True:
            c = 4 * i + 1
            if c >= size:
                break
            best = c
            bk = keys[c]
            end = min(c + 4, size)
            for j in range(c + 1, end):
                if keys[j] < bk:
                    bk = keys[j]
                    best = j
            if bk >= key:
                break
            keys[i] = bk
            nodes[i] = nodes[best]
            i = best
        keys[i] = key
        nodes[i] = node
    return key0, node0, size


# ---------------------------------------------------------------------------
# Indexed 4-ary heap with decrease-key: every node is in the heap at most once.
#
# pos[node] is the node's slot, or -1 when it is not in the heap (never pushed,
# or popped). Dijkstra pushes ~1.7 entries per node into the lazy heap above on
# 10-NN graphs and pops them all; here a relaxation that improves a queued node
# moves it up in place (cheap: keys only decrease a little) and a node is popped
# once. Measured on a 5k-node 10-NN Randers graph, 500 full searches on one
# thread (CPU time): 0.30 s with the lazy heap, 0.22 s with this one; a radix
# heap on the IEEE bits of the keys (linked buckets, stale entries dropped)
# measured 0.25 s. Since the k-medoids graph kernels moved onto the core (and so
# onto this heap, from the lazy one): voronoi k-medoids (direction symmetric, 8
# clusters) on a 50k-node 15-NN Randers graph, one thread, CPU time 29-31 s before,
# 19-24 s after; many-source rows unchanged (32 sources: 0.31 s both).
# Capacity: the number of nodes.
# ---------------------------------------------------------------------------


@njit(cache=True, inline="always")
def pq_update(keys, nodes, pos, size, key, node):
    """Insert node with key, or lower its key if it is queued; return the new size.

    The caller guarantees key < the node's current key when it is queued.
    """
    i = pos[node]
    if i < 0:
        i = size
        size += 1
    while i > 0:
        parent = (i - 1) >> 2
        pk = keys[parent]
        if pk <= key:
            break
        keys[i] = pk
        w = nodes[parent]
        nodes[i] = w
        pos[w] = i
        i = parent
    keys[i] = key
    nodes[i] = node
    pos[node] = i
    return size


@njit(cache=True, inline="always")
def pq_pop(keys, nodes, pos, size):
    """Remove the root; return (key, node, new size). The node's pos becomes -1."""
    key0 = keys[0]
    node0 = nodes[0]
    pos[node0] = -1
    size -= 1
    if size > 0:
        key = keys[size]
        node = nodes[size]
        i = 0
        while True:
            c = 4 * i + 1
            if c >= size:
                break
            best = c
            bk = keys[c]
            end = min(c + 4, size)
            for j in range(c + 1, end):
                if keys[j] < bk:
                    bk = keys[j]
                    best = j
            if bk >= key:
                break
            keys[i] = bk
            w = nodes[best]
            nodes[i] = w
            pos[w] = i
            i = best
        keys[i] = key
        nodes[i] = node
        pos[node] = i
    return key0, node0, size
