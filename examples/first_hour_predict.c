/* docs/first-hour.md's C program: loads a model nablas train wrote and predicts one flower
   with nb_model_predict, in the user's units (the model's standardisation applied, softmax
   probabilities out).  Usage: first_hour_predict MODEL.nbm SEPAL_L SEPAL_W PETAL_L PETAL_W */
#include <nablas.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: %s MODEL.nbm SEPAL_L SEPAL_W PETAL_L PETAL_W\n", argv[0]);
        return 2;
    }
    nb_model m;
    nb_status st = nb_model_load(&m, argv[1]);
    if (st != NB_OK) {
        fprintf(stderr, "%s: %s\n", argv[1], nb_status_str(st));
        return 1;
    }
    float x[4], p[16];
    for (int j = 0; j < 4; j++)
        x[j] = strtof(argv[2 + j], NULL);
    size_t k = m.n_classes; /* one probability per class */
    nb_tensor X = nb_tensor_view(x, 1, 4), Y = nb_tensor_view(p, 1, k);
    st = k >= 1 && k <= 16 ? nb_model_predict(&m, &X, &Y) : NB_ERR_SHAPE;
    if (st != NB_OK) {
        fprintf(stderr, "predict: %s\n", nb_status_str(st));
        nb_model_free(&m);
        return 1;
    }
    for (size_t c = 0; c < k; c++)
        printf("%-12s %.3f\n", m.class_names ? m.class_names[c] : "?", p[c]);
    nb_model_free(&m);
    return 0;
}
