Console.WriteLine("model kit");
