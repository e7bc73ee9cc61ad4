using MultiModal.Training.Cli;

// Usage: see TrainingCli.Usage (train clip | eval clip | render).
return TrainingCli.Run(args);
