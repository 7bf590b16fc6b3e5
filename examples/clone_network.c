/* Copy a network with nb_net_clone, train only the copy, and keep the original as it was;
   print the library's version. */
#include <stdio.h>
#include <string.h>

#include <nablas.h>

int main(void)
{
    float x[8] = {0, 1, 2, 3, 4, 5, 6, 7}, t[8] = {1, 3, 5, 7, 9, 11, 13, 15};
    nb_tensor X = nb_tensor_view(x, 8, 1), T = nb_tensor_view(t, 8, 1);
    nb_layer_spec layers[] = {{4, NB_ACT_TANH, 0}, {1, NB_ACT_IDENTITY, 0}};
    nb_net *net = NULL, *copy = NULL;
    if (nb_net_create(&net, 1, layers, 2, 42) != NB_OK || nb_net_clone(&copy, net) != NB_OK)
        return 1;
    for (int step = 0; step < 100; step++) /* the copy learns; the original does not move */
        if (nb_net_train_step(copy, &X, &T, NB_LOSS_MSE, 0.01f, NULL) != NB_OK)
            return 1;
    nb_net *fresh = NULL; /* the original, rebuilt from its seed, to compare with */
    if (nb_net_create(&fresh, 1, layers, 2, 42) != NB_OK)
        return 1;
    size_t bytes = nb_net_num_params(net) * sizeof(float);
    int same = memcmp(nb_net_params(net), nb_net_params(fresh), bytes) == 0;
    int moved = memcmp(nb_net_params(copy), nb_net_params(net), bytes) != 0;
    printf("nablas %s (built against %s): original unchanged %s, copy trained %s\n",
           nb_version(), NB_VERSION_STRING, same ? "yes" : "no", moved ? "yes" : "no");
    nb_net_free(fresh);
    nb_net_free(copy);
    nb_net_free(net);
    return same && moved ? 0 : 1;
}
